#!/usr/bin/env bash
# Every check of the grading container that needs a GPU (issue 12), as one script.
#
# The GPU machine this project can borrow has CUDA torch, numpy, pandas and pytest for its
# python3 (3.12), no container engine, no network: what else the runner and the staff code
# need travels with the working tree as wheels. Three steps:
#
#   here (no GPU):     bench/gpu_check.sh prepare
#       builds the three problem sets with their solution notebooks into build/gpu-check/dist
#       and downloads python 3.12 wheels into build/gpu-check/wheels-1 and wheels-2 (each
#       under the 64 MiB a call may carry); prints their sizes.
#   GPU machine, call 1 (carry build/gpu-check/wheels-1):
#       bench/gpu_check.sh install
#   GPU machine, call 2 (carry build/gpu-check/wheels-2 and build/gpu-check/dist), at once
#   (the machine keeps build/gpu-venv only while it stays warm):
#       bench/gpu_check.sh install run
#
# `run` prints (and writes to $OUT/gpu-figures.txt): the GPU, the reference of each set graded
# with the cpu profile on the CPU and the scale profile on CUDA (score, wall time, peak memory),
# ps3's throughput with 1, 2, 4, 8 workers sharing the GPU and the time of a 300-student class,
# ps3 q1b's quality figures on CUDA (scale_profile.py), the calibration of the ps1/ps2 scale
# checks at full size, and whether the gpu flavour of the image can
# be built (it needs podman or docker: none on that machine; `make grading-image FLAVOUR=gpu`
# builds it on a staff machine). About 6 minutes on an H200 (not yet run: no GPU was lent).
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=build/gpu-check
VENV=build/gpu-venv
PACKAGES="ipython pyyaml pydantic tqdm matplotlib scikit-learn"
PRESENT_THERE="numpy pandas tzdata"  # preinstalled on the GPU machine: not carried

prepare() {
  local py=.venv/bin/python
  rm -rf "$HERE/dist" "$HERE/build" "$HERE"/wheels*
  $py -m diffcourse_staff.release build --all --no-gates --solutions \
    --dist "$HERE/dist" --build "$HERE/build"
  $py -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform any -d "$HERE/wheels-all" $PACKAGES
  for name in $PRESENT_THERE; do rm -f "$HERE/wheels-all/$name"-*.whl; done
  # split by size into two folders of at most 60 MiB each (largest first, first fit)
  $py - "$HERE" <<'EOF'
import shutil, sys
from pathlib import Path
here = Path(sys.argv[1]); limit = 60 * 2**20
bins = [(here / "wheels-1", [0]), (here / "wheels-2", [0])]
for wheel in sorted((here / "wheels-all").glob("*.whl"), key=lambda p: -p.stat().st_size):
    size = wheel.stat().st_size
    folder, used = next((b for b in bins if b[1][0] + size <= limit), (None, None))
    if folder is None:
        sys.exit(f"prepare: {wheel.name} does not fit in two carries of 60 MiB")
    folder.mkdir(exist_ok=True); shutil.move(str(wheel), folder); used[0] += size
shutil.rmtree(here / "wheels-all")
EOF
  du -sh "$HERE"/wheels-* "$HERE/dist"
}

install() {
  [ -x "$VENV/bin/python" ] || python3 -m venv --system-site-packages "$VENV"
  for folder in "$HERE"/wheels-*; do
    [ -d "$folder" ] && "$VENV/bin/python" -m pip install -q --no-index --no-deps "$folder"/*.whl
  done
  "$VENV/bin/python" -c "import IPython, yaml, pydantic, tqdm, matplotlib, sklearn, torch; \
print('installed; torch', torch.__version__, 'CUDA', torch.cuda.is_available())"
}

run() {
  local py="$VENV/bin/python" out="${OUT:-build/gpu-check}/gpu-figures.txt"
  export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1
  {
    nvidia-smi -L || true
    echo "== gradings and throughput (bench/gpu_grading.py)"
    timeout 420 "$py" bench/gpu_grading.py --dist "$HERE/dist" || echo "gpu_grading: exit $?"
    if [ -f assignments/ps3/staff/scale_profile.py ]; then
      echo "== ps3 q1b quality figures on CUDA (scale_profile.py)"
      timeout 120 "$py" assignments/ps3/staff/scale_profile.py --seeds 8 --bug-seeds 2 \
        || echo "scale_profile: exit $?"
    fi
    for aid in ps1 ps2; do
      echo "== $aid scale checks at full size (bench/scale_checks.py)"
      timeout 90 "$py" bench/scale_checks.py --assignment "$aid" --seeds 10 --reference-n 100000 \
        || echo "scale_checks $aid: exit $?"
    done
    echo "== gpu flavour of the grading image"
    if command -v podman >/dev/null || command -v docker >/dev/null; then
      timeout 600 "$py" -m diffcourse_staff.grading_batch.image --flavour gpu || true
    else
      echo "no podman or docker here: build it with make grading-image FLAVOUR=gpu elsewhere"
    fi
  } 2>&1 | tee "$out"
}

[ $# -gt 0 ] || { sed -n '2,25p' "$0"; exit 2; }
for step in "$@"; do
  case "$step" in
    prepare | install | run) "$step" ;;
    *) echo "unknown step $step (prepare, install, run)"; exit 2 ;;
  esac
done
