from flowers.cli import main

raise SystemExit(main())
