"""The Kubernetes Indexed Job: manifests valid against the API models, offline; the merge step."""

from __future__ import annotations

import json
import zipfile

import pytest
import yaml

from diffcourse_staff.grading_batch import k8s
from diffcourse_staff.grading_batch.engines import Limits


def _docs(**kw):
    args = {"image": "registry.example.edu/diffcourse-grading:gpu", "claim": "grading-data"}
    return k8s.job_manifests("ps3", 8, **(args | kw))


def test_manifests_validate_against_the_kubernetes_models():
    policy, job = _docs(gpus_per_pod=1, profile="scale", subpath="ps3", per_shard=40)
    for doc in (policy, job):
        k8s.validate(doc)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == 8
    container = spec["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"name": "DIFFCOURSE_GRADING_PROFILE", "value": "scale"} in container["env"]
    assert container["args"][container["args"].index("--count") + 1] == "8"
    assert container["securityContext"]["capabilities"] == {
        "drop": ["ALL"],
        "add": ["SETUID", "SETGID", "CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL"],
    }
    assert spec["activeDeadlineSeconds"] == 900 * 40 + 600
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]  # no rules: no traffic
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= (
        spec["template"]["metadata"]["labels"].items()
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda j: j["spec"].update(completionMod="Indexed"),
            r"spec.completionMod\n  Extra inputs are not permitted",
        ),
        (
            lambda j: j["spec"]["template"]["spec"]["containers"][0].pop("name"),
            r"containers.0.name\n  Field required",
        ),
        (lambda j: j["spec"].update(completionMode="NonIndexed"), r"must be Indexed"),
        (
            lambda j: j["spec"].update(completions="8"),
            r"spec.completions\n  Input should be a valid integer",
        ),
    ],
)
def test_validation_catches_schema_mistakes(edit, message):
    _, job = _docs()
    edit(job)
    with pytest.raises(k8s.ManifestError, match=message):
        k8s.validate(job)


def test_prepare_lays_out_the_volume_and_merge_accounts_for_every_submission(tmp_path):
    ag = tmp_path / "ag.zip"
    with zipfile.ZipFile(ag, "w") as zf:
        zf.writestr("tests/q1.py", "test = {'name': 'q1', 'points': 4, 'suites': []}")
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b", "c"):
        (subs / f"{name}.ipynb").write_text("{}")
    data = tmp_path / "volume"
    path = k8s.prepare(
        "fx1", ag, subs, data, 2, image="img", claim="pvc", limits=Limits(timeout_s=60)
    )
    policy, job = list(yaml.safe_load_all(path.read_text()))
    assert job["spec"]["completions"] == 2 and job["spec"]["activeDeadlineSeconds"] == 60 * 2 + 600
    records = json.loads((data / "submissions.json").read_text())
    assert [r["path"] for r in records] == ["export/a.ipynb", "export/b.ipynb", "export/c.ipynb"]
    # shard 0 graded "a" (a results.json with full marks), shard 1 timed out on "b", "c" never ran
    out = data / "shards" / "0" / "a" / "out"
    out.mkdir(parents=True)
    (out / "results.json").write_text(
        json.dumps({"tests": [{"name": "q1", "score": 4, "max_score": 4}]})
    )
    (out.parent / "run-result.json").write_text('{"exit_code": 0, "timed_out": false, "wall_s": 3}')
    (data / "shards" / "1" / "b").mkdir(parents=True)
    (data / "shards" / "1" / "b" / "run-result.json").write_text(
        '{"exit_code": -9, "timed_out": true, "wall_s": 60}'
    )
    counts = k8s.merge(data, Limits(timeout_s=60))
    assert counts == {"graded": 1, "timeout": 1, "crashed": 1}
    c = json.loads((data / "submissions" / "c" / "results.json").read_text())
    assert "no shard graded" in c["tests"][0]["output"]
    assert (
        json.loads((data / "submissions" / "a" / "results.json").read_text())["tests"][0]["score"]
        == 4
    )
