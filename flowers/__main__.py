from flowers.cli import command

command()
