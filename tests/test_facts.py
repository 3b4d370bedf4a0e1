"""The fact gate (flowers/facts.py, flowers/check/identity.py): what a variant is, compared exactly.

Each class of change that scores cannot show (a preprocessing swapped, a feature cache skipped in
code, layers unfrozen, a head changed, the learning rate or epochs changed, other weights) fails
``flowers check`` with exit 1 on a ``CHANGED`` row naming the fact, whatever ``--metrics`` says;
unchanged facts pass; how a case ran is compared only on one kind of machine; a file without facts
says so.  Runs come from tests/factory.py; nothing here imports TensorFlow.
"""

from __future__ import annotations

import copy

import pytest

from flowers import facts
from flowers.resultedit import edit
from flowers.results import Case
from tests.factory import VARIANTS, compared, make_run, rows, standard, write

pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults

VGG16 = {
    "layers": ["block5_conv3 Conv2D frozen", "block5_pool MaxPooling2D frozen", "dense Dense trainable"],
    "head": ["GlobalAveragePooling2D()", "Dense(1000) activation=relu", "Dense(5) activation=softmax"],
    "preprocessing": {
        "function": "keras.applications.vgg16:preprocess_input",
        "mode": "caffe",
        "channels": "BGR",
        "mean": [103.939, 116.779, 123.68],
        "range": [-123.68, 151.061],
        "digest": "bc022af94838450e",
    },
}
TF = {"function": "keras.applications.resnet_v2:preprocess_input", "mode": "tf", "channels": "RGB"}
TF_RECORD = {**TF, "range": [-1.0, 1.0], "digest": "8bf888df1cfa94dd"}
WORK = {
    "backbone_images": 500,
    "optimizer_steps": 104,
    "train_images": 3200,
    "validation_images": 400,
    "test_images": 50,
    "step_flops": 95588492,
    "total_flops": 323805981100,
}


def vgg16_run(seeds: int = 3, **run_kw) -> dict:
    """VGG16 cases with the facts a smoke run records, ``seeds`` of them."""
    run = standard(seeds=seeds, variants=("vgg16_transfer",), **run_kw)
    return edit(
        run,
        identity=copy.deepcopy(VGG16),
        work=dict(WORK),
        feature_cache={"enabled": True, "layer": "block5_pool", "bytes": 1024000, "seconds": 1.0, "storage": "memory"},
        weights_identity={"source": "random-calibrated", "images": 256, "version": 2},
    )


def changed(run: dict, **edits) -> dict:
    """``run`` with each ok case's ``extra_info`` edited: a key's value, or a function of the old info."""
    run = copy.deepcopy(run)
    for bench in run["benchmarks"]:
        info = bench["extra_info"]
        for key, value in edits.items():
            value(info) if callable(value) else info.__setitem__(key, value)
    return run


def fact_rows(comp) -> list[str]:
    return [r.how for r in comp.rows if r.verdict == "CHANGED"]


def test_unchanged_facts_pass_on_another_seed(tmp_path, check_cli):
    base, cur = vgg16_run(seeds=10), vgg16_run(seeds=1)
    code, out, _ = check_cli(write(tmp_path, "base.json", base), write(tmp_path, "cur.json", cur))
    assert code == 0 and "CHANGED" not in out, out


CASES = {
    "preprocessing swapped": (
        lambda i: i["identity"].__setitem__("preprocessing", TF_RECORD),
        "preprocessing keras.applications.vgg16:preprocess_input → keras.applications.resnet_v2:preprocess_input "
        "(caffe → tf)",
    ),
    "feature cache skipped in code": (
        lambda i: (i["work"].update(backbone_images=3650), i["feature_cache"].update(enabled=False)),
        "backbone images 500 → 3,650 (feature cache not used)",
    ),
    "a layer unfrozen": (
        lambda i: i["identity"]["layers"].__setitem__(0, "block5_conv3 Conv2D trainable"),
        "layer block5_conv3 frozen → trainable",
    ),
    "a head changed": (
        lambda i: i["identity"]["head"].__setitem__(1, "Dense(512) activation=relu"),
        "head Dense(1000) → Dense(512)",
    ),
    "learning rate changed": (
        lambda i: i["config"].update(learning_rate=0.001),
        "config learning_rate 0.0001 → 0.001",
    ),
    "epochs changed": (
        lambda i: (i["config"].update(epochs=1), i["work"].update(optimizer_steps=13)),
        "config epochs 2 → 1",
    ),
    "other weights": (
        lambda i: i.__setitem__("weights_identity", {"source": "none"}),
        "weights random-calibrated v2 on 256 training images → none",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_class_of_change_fails_naming_the_fact_whatever_the_metrics(tmp_path, check_cli, case):
    edit, words = CASES[case]
    base = write(tmp_path, "base.json", vgg16_run(seeds=10))
    cur = write(tmp_path, "cur.json", changed(vgg16_run(seeds=1), _=edit))
    code, out, _ = check_cli(base, cur, "--metrics", "accuracy")
    assert code == 1, out
    assert words in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL: 1 changed of 1 variant: vgg16_transfer")
    accept = f"pytest benchmarks --profile smoke --update-baseline {base} -k vgg16_transfer"
    assert accept in out


def test_the_augmentation_is_part_of_the_data_but_its_seed_is_not(tmp_path):
    def augmented(ops):
        def edit(info):
            seed = info["seed"]
            info["dataset"]["augmented"] = {"factor": 5, "seed": seed, "ops": ops}

        return edit

    base = changed(vgg16_run(), _=augmented(["flip_left_right", "brightness_0.2"]))
    assert (
        fact_rows(
            compared(tmp_path, base, changed(vgg16_run(seeds=1), _=augmented(["flip_left_right", "brightness_0.2"])))
        )
        == []
    )
    (row,) = fact_rows(compared(tmp_path, base, changed(vgg16_run(seeds=1), _=augmented(["flip_left_right"]))))
    assert row.startswith("data synthetic ab12 (240/30/30 images at 64 px, augmented ") and '"brightness_0.2"' in row


def test_epochs_changed_names_the_work_it_did_too(tmp_path):
    cur = changed(vgg16_run(seeds=1), _=CASES["epochs changed"][0])
    assert fact_rows(compared(tmp_path, vgg16_run(), cur)) == ["config epochs 2 → 1", "optimizer steps 104 → 13"]


def test_functions_that_behave_alike_are_not_a_change(tmp_path):
    """mobilenet_v2's and resnet_v2's preprocess_input map [0, 255] to [-1, 1] alike: one digest."""
    base = changed(vgg16_run(), _=lambda i: i["identity"].__setitem__("preprocessing", TF_RECORD))
    alike = {**TF_RECORD, "function": "keras.applications.mobilenet_v2:preprocess_input"}
    cur = changed(vgg16_run(), _=lambda i: i["identity"].__setitem__("preprocessing", alike))
    assert fact_rows(compared(tmp_path, base, cur)) == []
    unknown = {"function": "unknown", "range": [0.0, 1.0], "digest": "dea54f798b83cc7c"}
    other = {**unknown, "digest": "0123456789abcdef"}
    base = changed(vgg16_run(), _=lambda i: i["identity"].__setitem__("preprocessing", unknown))
    cur = changed(vgg16_run(), _=lambda i: i["identity"].__setitem__("preprocessing", other))
    assert fact_rows(compared(tmp_path, base, cur)) == [
        "preprocessing unknown (digest dea54f798b83cc7c) → unknown (digest 0123456789abcdef)"
    ]


def test_how_a_case_ran_is_compared_on_one_kind_of_machine_only(tmp_path):
    xla = changed(vgg16_run(seeds=1), _=lambda i: i["execution"].update(xla=True))
    assert fact_rows(compared(tmp_path, vgg16_run(), xla)) == ["XLA off → on"]
    elsewhere = changed(vgg16_run(seeds=1), _=lambda i: i["execution"].update(xla=True))
    elsewhere["machine_info"]["cpu"]["brand_raw"] = "Intel(R) Xeon(R) Platinum 8488C"
    comp = compared(tmp_path, vgg16_run(), elsewhere)
    assert fact_rows(comp) == [] and not comp.regressed
    assert any("compared on one kind of machine only" in note for note in comp.notes)
    # the config settings that choose it are not facts of what the case is either
    auto = changed(vgg16_run(seeds=1), _=lambda i: i["config"].update(jit_compile=True, jit_compile_auto="on"))
    assert fact_rows(compared(tmp_path, vgg16_run(), auto)) == []


def without_facts(run: dict) -> dict:
    for bench in run["benchmarks"]:
        for key in ("identity", "work", "execution"):
            del bench["extra_info"][key]
    return run


def test_a_baseline_without_facts_cannot_decide_and_says_how_to_record_them(tmp_path, check_cli):
    base = write(tmp_path, "base.json", without_facts(vgg16_run(seeds=10)))
    code, out, _ = check_cli(base, write(tmp_path, "cur.json", vgg16_run(seeds=1)))
    assert code == 1, out
    (row,) = [line for line in out.splitlines() if line.startswith("vgg16_transfer") and " facts " in line]
    assert "UNDECIDED" in row
    assert "facts not recorded: the baseline records no layers, head and preprocessing, work counters" in row
    assert f"record the facts in the baseline: pytest benchmarks --profile smoke --update-baseline {base}" in out
    assert (
        out.rstrip()
        .splitlines()[-1]
        .endswith("gates undecided (1 facts not recorded): record them in the baseline with the command above")
    )


def test_a_current_run_without_facts_cannot_switch_the_fact_gate_off(tmp_path, check_cli):
    base = write(tmp_path, "base.json", vgg16_run(seeds=10))
    code, out, _ = check_cli(base, write(tmp_path, "cur.json", without_facts(vgg16_run(seeds=1))))
    assert code == 1, out
    assert "the current run records no layers" in out and "record the facts in the baseline" not in out
    assert out.rstrip().splitlines()[-1].endswith("rerun the current run with this flowers-bench, which records them")


def test_every_variant_is_gated_and_the_accept_command_selects_exactly_the_changed_ones(tmp_path, check_cli):
    run = standard(seeds=3)
    cur = copy.deepcopy(run)
    for bench in cur["benchmarks"]:
        if bench["extra_info"]["variant"] in ("resnet50v2_finetune", "basic_cnn"):
            bench["extra_info"]["work"]["train_images"] = 1
    code, out, _ = check_cli(write(tmp_path, "a.json", run), write(tmp_path, "b.json", cur), "--metrics", "time")
    assert code == 1 and out.count("images trained on 480 → 1") == 2, out
    # resnet50v2_finetune alone: its name is part of resnet50v2_finetune_aug's
    assert "-k 'basic_cnn or resnet50v2_finetune-seed'" in out
    comp = compared(tmp_path, run, cur)
    assert {r.variant for r in comp.rows if r.verdict == "CHANGED"} == {"basic_cnn", "resnet50v2_finetune"}
    assert rows(comp, variant=VARIANTS[1], metric="test_accuracy")[0].verdict == "ok"


def test_layer_differences_are_grouped_and_capped():
    def case(layers):
        return Case("v", "v", 0, "ok", info={"identity": {"layers": layers}})

    names = [f"l{i} Conv2D frozen" for i in range(10)]
    unfrozen = [*names[:4], *(n.replace("frozen", "trainable") for n in names[4:])]
    assert [d.text for d in facts.case_differences(case(names), case(unfrozen), True)] == [
        "layers l4 … l9 (6) frozen → trainable"
    ]
    added = [*names[:3], "dropout Dropout trainable", *names[3:]]
    assert [d.text for d in facts.case_differences(case(names), case(added), True)] == ["layers + dropout after l2"]
    many = [f"l{i} Conv2D frozen" for i in range(16)]
    scattered = [n if i % 2 else n.replace("frozen", "trainable") for i, n in enumerate(many)]  # 8 apart
    words = [d.text for d in facts.case_differences(case(many), case(scattered), True)]
    assert words == [*(f"layer l{i} frozen → trainable" for i in (0, 2, 4, 6, 8)), "layers … 3 more changes"]
    other = [f"m{i} Dense trainable" for i in range(10)]
    words = [d.text for d in facts.case_differences(case(names), case(other), True)]
    assert words == ["layers − l0 … l9 (10)", "layers + m0 … m9 (10) first"]


def test_the_report_names_the_same_differences(tmp_path):
    from flowers import report
    from flowers.results import load_run

    base = vgg16_run(seeds=1, when="2026-01-01T00:00:00")
    cur = changed(vgg16_run(seeds=1, when="2026-01-02T00:00:00"), _=CASES["preprocessing swapped"][0])
    a, b = load_run(write(tmp_path, "a.json", base)), load_run(write(tmp_path, "b.json", cur))
    (change,) = [c for c in report.changes(a, b) if c.kind == "model"]
    assert change.key == "vgg16_transfer" and change.new == CASES["preprocessing swapped"][1]
    assert change.new in fact_rows(compared(tmp_path, base, cur))


def test_the_markdown_verdict_has_the_changed_rows_and_the_command(tmp_path, check_cli):
    base = write(tmp_path, "base.json", vgg16_run(seeds=10))
    cur = write(tmp_path, "cur.json", changed(vgg16_run(seeds=1), _=CASES["a head changed"][0]))
    md = tmp_path / "check.md"
    code, _, _ = check_cli(base, cur, "--markdown", md)
    text = md.read_text()
    assert code == 1 and text.startswith("### flowers check: FAIL")
    assert "| vgg16_transfer | head |  |  |  |  | **CHANGED** | head Dense(1000) → Dense(512) |" in text
    assert text.rstrip().endswith("-k vgg16_transfer`")


def test_an_old_run_against_an_old_run_cannot_decide_on_facts(tmp_path):
    old = without_facts(make_run(standard()["benchmarks"]))
    comp = compared(tmp_path, old, old)
    assert comp.regressed and {r.verdict for r in comp.rows if r.metric == "facts"} == {"UNDECIDED"}
