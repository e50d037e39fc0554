#!/usr/bin/env bash
# Every check of the grading container that needs a GPU (issue 12), as one script.
#
# The GPU machine this project can borrow has CUDA torch, numpy, pandas and pytest for its
# python3 (3.12), no container engine, no network: what else the runner and the staff code
# need travels with the working tree as wheels. Three steps:
#
#   here (no GPU):     bench/gpu_check.sh prepare
#       builds the three problem sets with their solution notebooks into build/gpu-check/dist
#       and downloads python 3.12 wheels into build/gpu-check/wheels-1, wheels-2 (each at
#       most 48 MiB: a call carries 64 MiB at most); prints their sizes.
#   GPU machine, one call per wheel folder but the last (carry build/gpu-check/wheels-N):
#       bench/gpu_check.sh install
#   then at once, while the machine is warm (it keeps build/gpu-venv only while warm, and
#   gives itself back after about 30 s idle: issue the calls back to back), the last folder
#   with the builds (carry build/gpu-check/wheels-LAST and build/gpu-check/dist):
#       bench/gpu_check.sh install run
#   (Measured here: about 78 MB of wheels, so two calls; the wheels are already compressed,
#   so one tarball would not fit either.)
#
# `run` prints (and writes to $OUT/gpu-figures.txt): the GPU, the reference of each set graded
# with the cpu profile on the CPU and the scale profile on CUDA (score, wall time, peak memory),
# ps3's throughput with 1, 2, 4, 8 workers sharing the GPU and the time of a 300-student class,
# ps3 q1b's quality figures on CUDA (scale_profile.py), the calibration of the ps1/ps2 scale
# checks at full size, and whether the gpu flavour of the image can
# be built (it needs podman or docker: none on that machine; `make grading-image FLAVOUR=gpu`
# builds it on a staff machine). At most 9.5 minutes (timeouts); never run yet: no GPU was lent.
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
  # split by size into folders wheels-1, wheels-2, ... of at most 48 MiB each (first fit)
  $py - "$HERE" <<'EOF'
import shutil, sys
from pathlib import Path
here = Path(sys.argv[1]); limit = 48 * 2**20
bins: list[list] = []  # [folder, bytes used]
for wheel in sorted((here / "wheels-all").glob("*.whl"), key=lambda p: -p.stat().st_size):
    size = wheel.stat().st_size
    if size > limit:
        sys.exit(f"prepare: {wheel.name} alone is over 48 MiB")
    slot = next((b for b in bins if b[1] + size <= limit), None)
    if slot is None:
        slot = [here / f"wheels-{len(bins) + 1}", 0]
        slot[0].mkdir()
        bins.append(slot)
    shutil.move(str(wheel), slot[0]); slot[1] += size
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
print('installed; torch', torch.__version__, 'CUDA', torch.cuda.is_available())" \
    || echo "not complete yet: install the other wheel folders"
}

run() {
  local py="$VENV/bin/python" out="${OUT:-build/gpu-check}/gpu-figures.txt"
  export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1
  {
    nvidia-smi -L || true
    echo "== gradings and throughput (bench/gpu_grading.py)"
    timeout 360 "$py" bench/gpu_grading.py --dist "$HERE/dist" || echo "gpu_grading: exit $?"
    if [ -f assignments/ps3/staff/scale_profile.py ]; then
      echo "== ps3 q1b quality figures on CUDA (scale_profile.py)"
      timeout 90 "$py" assignments/ps3/staff/scale_profile.py --seeds 8 --bug-seeds 2 \
        || echo "scale_profile: exit $?"
    fi
    for aid in ps1 ps2; do
      echo "== $aid scale checks at full size (bench/scale_checks.py)"
      timeout 60 "$py" bench/scale_checks.py --assignment "$aid" --seeds 5 --reference-n 100000 \
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
