"""Grading on a Kubernetes cluster: an Indexed Job over a shared volume, and the merge step.

`prepare` lays out the shared volume (seen here at DATA, in the pods at /data):
the unpacked autograder zip, the submissions and submissions.json, then writes
DATA/job.yaml: a NetworkPolicy that denies the grading pods all traffic and an
Indexed Job (`completionMode: Indexed`) whose pod number i runs
autograder/container/grade_shard.py on every count-th submission from i, with
the same limits, profile and image as `grade` (GPU pods request
`nvidia.com/gpu`; the scale profile's checks are added to the unpacked tests, as
in `grade`). `merge` then builds every submission's results.json, scores.csv
and the report from the shards with the code a local run uses; a submission no
shard graded is reported as such, never dropped.

`validate` checks each manifest against the Kubernetes API models of the
`kubernetes` client, offline (pydantic models that forbid unknown fields and check
types and required fields), and that the Job is Indexed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from diffcourse_staff.grading_batch import scale_checks
from diffcourse_staff.grading_batch.batch import finalize_submission, unpack_autograder
from diffcourse_staff.grading_batch.engines import RUNNER_CAPS, Limits, RunResult
from diffcourse_staff.grading_batch.submissions import Submission, load_submissions

POD_DATA = "/data"
LABEL = {"app.kubernetes.io/name": "diffcourse-grading"}


class ManifestError(ValueError):
    pass


def job_manifests(
    assignment: str,
    shards: int,
    image: str,
    claim: str,
    subpath: str = "",
    parallelism: int | None = None,
    limits: Limits | None = None,
    gpus_per_pod: int = 0,
    profile: str = "cpu",
    per_shard: int = 1,
) -> list[dict]:
    """[NetworkPolicy, Job] for grading `assignment` in `shards` pods."""
    lim = limits or Limits()
    name = f"grade-{assignment}".replace("_", "-").lower()
    resources = {
        "requests": {"cpu": f"{lim.cpus:g}", "memory": f"{lim.memory_mb}Mi"},
        "limits": {"cpu": f"{lim.cpus:g}", "memory": f"{lim.memory_mb}Mi"},
    }
    if gpus_per_pod:
        resources["limits"]["nvidia.com/gpu"] = str(gpus_per_pod)
        resources["requests"]["nvidia.com/gpu"] = str(gpus_per_pod)
    labels = LABEL | {"diffcourse/assignment": assignment}
    container = {
        "name": "grader",
        "image": image,
        "command": ["python", "/opt/grading/grade_shard.py"],
        "args": ["--data", POD_DATA, "--count", str(shards), "--timeout", f"{lim.timeout_s:g}"],
        "env": [
            {"name": "DIFFCOURSE_GRADING_PROFILE", "value": profile},
            {"name": "DIFFCOURSE_GRADING_DEVICE", "value": "cuda" if gpus_per_pod else "cpu"},
        ],
        "resources": resources,
        "securityContext": {
            "runAsUser": 0,  # only so that the runner can drop student code to nobody
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"], "add": list(RUNNER_CAPS)},
        },
        "volumeMounts": [
            {"name": "data", "mountPath": POD_DATA, "subPath": subpath} if subpath
            else {"name": "data", "mountPath": POD_DATA},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }  # fmt: skip
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [container],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": claim}},
                {"name": "tmp", "emptyDir": {"sizeLimit": f"{lim.tmpfs_mb}Mi"}},
            ],
        },
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": shards,
            "parallelism": parallelism or shards,
            "backoffLimit": shards * 2,
            # a shard's whole time budget, with room for pulling the image
            "activeDeadlineSeconds": int(lim.timeout_s * per_shard) + 600,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": pod,
        },
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-no-network", "labels": labels},
        "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress", "Egress"]},
    }
    return [policy, job]


def validate(doc: dict) -> None:
    kinds = {
        ("batch/v1", "Job"): "V1Job",
        ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    }
    model = kinds.get((doc.get("apiVersion"), doc.get("kind")))
    if model is None:
        raise ManifestError(f"unexpected manifest {doc.get('apiVersion')}/{doc.get('kind')}")
    import kubernetes.client
    import pydantic

    try:  # the client's models are pydantic, strict and closed (extra fields forbidden)
        getattr(kubernetes.client, model).model_validate(doc)
    except pydantic.ValidationError as e:
        raise ManifestError(f"{doc['kind']}: {e}") from e
    if doc["kind"] == "Job":
        spec = doc["spec"]
        if spec.get("completionMode") != "Indexed" or spec["template"]["spec"].get(
            "restartPolicy"
        ) not in {"Never", "OnFailure"}:
            raise ManifestError("Job: must be Indexed with restartPolicy Never or OnFailure")


def prepare(
    assignment: str,
    autograder_zip: Path,
    submissions: Path,
    data: Path,
    shards: int,
    profile: str = "cpu",
    **job,
) -> Path:
    """Lay out the shared volume at `data` and write data/job.yaml; returns its path."""
    data.mkdir(parents=True, exist_ok=True)
    source = unpack_autograder(autograder_zip, data / "autograder" / "source")
    scale_checks.add_to_source(source, scale_checks.staff_folder(assignment), profile)
    shutil.copy2(autograder_zip, data / "autograder.zip")
    subs = load_submissions(submissions, data / "export")
    if submissions.is_dir() and not str(submissions.resolve()).startswith(str(data.resolve())):
        shutil.copytree(submissions, data / "export", dirs_exist_ok=True)
        subs = load_submissions(data / "export", data / "export")
    records = [
        {
            "key": s.key,
            "path": str(s.path.resolve().relative_to(data.resolve())) if s.path else None,
            "submitters": [vars(p) for p in s.submitters],
            "created_at": s.created_at,
            "gradescope_score": s.gradescope_score,
        }
        for s in subs
    ]
    (data / "submissions.json").write_text(json.dumps(records, indent=2), encoding="utf-8")
    docs = job_manifests(
        assignment, shards, profile=profile, per_shard=-(-len(subs) // shards), **job
    )
    for doc in docs:
        validate(doc)
    path = data / "job.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


def merge(data: Path, limits: Limits | None = None) -> dict[str, int]:
    """Per-submission results from every shard into data/submissions/; counts per outcome."""
    lim = limits or Limits()
    records = json.loads((data / "submissions.json").read_text(encoding="utf-8"))
    source = data / "autograder" / "source"
    (data / "submissions").mkdir(exist_ok=True)
    counts: dict[str, int] = {}
    for rec in records:
        sub = Submission(key=rec["key"], path=(data / rec["path"]) if rec["path"] else None)
        found = sorted((data / "shards").glob(f"*/{rec['key']}/run-result.json"))
        run = None
        work = data / "shards" / "none" / rec["key"]
        if found:
            work = found[0].parent
            r = json.loads(found[0].read_text(encoding="utf-8"))
            run = RunResult(r["exit_code"], r["timed_out"], r["wall_s"])
        elif sub.path is not None:  # no shard reached it: grade it as not graded, visibly
            run = RunResult(None, False, 0.0, engine_log="no shard graded this submission")
        summary = finalize_submission(sub, run, work, data, source, lim, "kubernetes")
        counts[summary.outcome] = counts.get(summary.outcome, 0) + 1
    return counts
