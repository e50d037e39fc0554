# Course build. `make help` lists the targets.
# Every target installs what it needs on first use (a venv in .venv, node
# packages in node_modules, Debian's chromium for the browser tests) and
# reuses it afterwards.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DIST   := dist
# One assignment for `make assignment A=ps1`.
A      ?=


.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

# ---------------------------------------------------------------- set-up

$(STAMP): requirements/dev.lock pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

.PHONY: venv
venv: $(STAMP) ## Create or update the staff virtual environment (.venv)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: node-deps
node-deps: node_modules/.installed ## Install MathJax and axe-core (served by the site, used by tests)

.PHONY: browser-deps
browser-deps: ## Install Debian's headless Chromium for the browser tests
	@command -v chromium >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# ---------------------------------------------------------------- build

.PHONY: release
release: $(STAMP) node-deps ## Build and prove the whole release into dist/ (the main job)
	$(PY) -m diffcourse_staff.release build --all
	$(PY) -m diffcourse_staff.release wheel --when-allowed
	$(MAKE) --no-print-directory site

.PHONY: wheel
wheel: $(STAMP) ## Build the library wheel into dist/library (refused while a set it answers is open)
	$(PY) -m diffcourse_staff.release wheel

.PHONY: student
student: $(STAMP) ## Build the student notebooks and zips of every assignment
	$(PY) -m diffcourse_staff.release build --all --no-gates

.PHONY: autograder
autograder: student ## Build the Gradescope autograder zips (same build as student)

.PHONY: assignment
assignment: $(STAMP) ## Build and prove one assignment alone: make assignment A=ps1
	@test -n "$(A)" || { echo "usage: make assignment A=<id from course.yml>"; exit 2; }
	$(PY) -m diffcourse_staff.release build --only $(A)

.PHONY: notebooks
notebooks: $(STAMP) ## Generate assignments/<id>/<id>.ipynb from <id>.py (all, or A=ps1); builds do it too
	$(PY) -m diffcourse_staff.release notebooks $(A)

.PHONY: check-course
check-course: $(STAMP) ## Validate course.yml
	$(PY) -m diffcourse_staff.course

.PHONY: figures
figures: $(STAMP) ## Regenerate the site's figures and animations (only those whose inputs changed)
	$(PY) -m diffcourse_staff.site.figures

.PHONY: site
site: $(STAMP) node-deps figures ## Build the course site into dist/site (mkdocs --strict) and scan it for leaks
	@$(PY) -m diffcourse_staff.site.library $(SITE_DATES)
	@$(MAKE) --no-print-directory $(SITE_INDEX)

# The site is rebuilt only when one of its inputs is newer than its index page. A
# sub-make reads the list, so figures and zips made a moment ago count.
SITE_INDEX  := $(DIST)/site/index.html
# What passing dates change (the library's and the project's downloads), rewritten only
# when it changes.
SITE_DATES  := build/site-dates.txt
SITE_INPUTS  = mkdocs.yml course.yml package-lock.json $(wildcard $(DIST)/*/*-student.zip) \
  $(SITE_DATES) $(wildcard $(DIST)/library/*.whl) \
  $(wildcard $(DIST)/*/grading-report.json) \
  $(shell find site lectures mini_projects src/diffcourse src/diffcourse_staff build/figures -type f -not -path '*/__pycache__/*' 2>/dev/null)
$(SITE_INDEX): $(SITE_INPUTS)
	$(PY) -m diffcourse_staff.site.build
	$(PY) -m diffcourse_staff.release check-site
	@touch $@

.PHONY: serve
serve: $(STAMP) node-deps figures ## Preview the site with live reload on http://127.0.0.1:8000
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

# Final grades: `make grades` reads the Gradescope exports in GRADES (git-ignored; layout
# in src/diffcourse_staff/grades/inputs.py and the staff guide) and writes GRADES/out.
GRADES ?= grades
COURSE ?= course.yml
WHAT_IF ?=

.PHONY: grades
grades: $(STAMP) ## Final grades from Gradescope exports in grades/ (GRADES=dir COURSE=file WHAT_IF="ps3:written=max")
	$(PY) -m diffcourse_staff.grades --course $(COURSE) --inputs $(GRADES) $(if $(WHAT_IF),--what-if "$(WHAT_IF)")

# ---------------------------------------------------------------- mini project
TRACK ?=
DEST  ?=

.PHONY: project-starter
project-starter: $(STAMP) ## Copy a mini-project starter: make project-starter TRACK=custom-data DEST=../my-project
	@test -n "$(TRACK)" -a -n "$(DEST)" || { echo "usage: make project-starter TRACK=custom-data|pretrained DEST=folder"; exit 2; }
	$(PY) -m diffcourse_staff.projects starter $(TRACK) $(DEST)

.PHONY: project-rubric
project-rubric: $(STAMP) ## Print the mini-project rubric as text to type into Gradescope
	@$(PY) -m diffcourse_staff.projects rubric --gradescope

.PHONY: checkpoints
checkpoints: $(STAMP) ## Retrain the pretrained digits model and rewrite its model card
	$(PY) scripts/train_digits_model.py

# ---------------------------------------------------------------- grading at scale

FLAVOUR     ?= cpu
ENGINE      ?=
WORKERS     ?= 2
SUBMISSIONS ?=

.PHONY: container-deps
container-deps: ## Install podman, runc, debootstrap and bubblewrap from Debian where missing
	@command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null \
	  && command -v bwrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq podman runc debootstrap bubblewrap >/dev/null; }

.PHONY: grading-image
grading-image: $(STAMP) container-deps ## Build the grading image once per term: make grading-image [FLAVOUR=cpu|gpu]
	$(PY) -m diffcourse_staff.grading_batch.image --flavour $(FLAVOUR) $(if $(ENGINE),--engine $(ENGINE))

.PHONY: grade-all
grade-all: $(STAMP) ## Grade a class: make grade-all A=ps3 SUBMISSIONS=export.zip [WORKERS=2] [ENGINE=podman|docker|local]
	@test -n "$(A)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade-all A=<id> SUBMISSIONS=<export zip or folder>"; exit 2; }
	$(PY) -m diffcourse_staff.grading_batch grade --assignment $(A) --submissions $(SUBMISSIONS) \
	  --workers $(WORKERS) $(if $(ENGINE),--engine $(ENGINE))

# ---------------------------------------------------------------- checks

.PHONY: test
test: $(STAMP) node-deps browser-deps ## Run the test suite (slow tests excluded)
	$(PY) -m pytest -m "not slow" -q

.PHONY: test-all
test-all: $(STAMP) node-deps browser-deps ## Run every test, slow ones included
	$(PY) -m pytest -q

.PHONY: lint
lint: $(STAMP) ## Lint and check formatting with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: $(STAMP) ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: bench
bench: $(STAMP) ## Run the benchmarks and print their figures
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

.PHONY: clean
clean: ## Remove build outputs (keeps the venv and node_modules)
	rm -rf $(DIST) build .cache .pytest_cache .ruff_cache test-artifacts

.PHONY: distclean
distclean: clean ## Remove build outputs and every installed dependency
	rm -rf $(VENV) node_modules
