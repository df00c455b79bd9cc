# Two commands set up a fresh machine:  `make baseline`  and  `make test`.
VENV := .venv
STAMP := $(VENV)/.installed
# Extras of pyproject.toml to install: `test` brings pytest, the notebook and browser tools, and Dask
# (the `cluster` extra), so that every test runs on a fresh machine as in CI.
EXTRAS ?= test
HAS_CJK := $(VENV)/bin/python -c "from nxmfg.model.fonts import cjk_family; cjk_family()" 2>/dev/null

.PHONY: baseline test install font posterior

baseline: font  ## install, then run the baseline scenario with its charts into out/baseline
	$(VENV)/bin/nxmfg simulate scenarios/baseline.yaml --out out/baseline

test: font  ## install, then run the test suite, one worker per core (pytest-xdist; a file's tests share one)
	$(VENV)/bin/pytest -n auto --dist loadfile

# The shipped posterior (issue 21): the fit to every year and the fit to 2020 that the coverage test scores,
# at once (one sampler keeps one core busy; one after the other they take twice as long), each shipped
# (--save); the fit to 2020 writes its progress to out/posterior_until_2020.log. Interrupted (Ctrl-C), both
# keep their sampler's checkpoint under out/: run it again and they go on where they stopped (--resume starts
# afresh where the model, data or priors changed).
posterior: $(STAMP)  ## sample the shipped posterior and the fit to 2020 (55-95 min on 2 cores; resumable)
	@mkdir -p out
	nice -n 10 $(VENV)/bin/nxmfg calibrate --until 2020 --out out/posterior_until_2020 --resume --save \
	  > out/posterior_until_2020.log 2>&1 & \
	nice -n 10 $(VENV)/bin/nxmfg calibrate --out out/posterior --resume --save; status=$$?; \
	wait $$! || status=1; tail -n 1 out/posterior_until_2020.log; exit $$status

install: $(STAMP)  ## the package and its test tools in .venv (no root needed)

# Chinese chart labels need a CJK font (`--lang en` does not). Where none is installed, root installs
# Debian's WenQuanYi Micro Hei; anyone else is told, in one line, what to run.
font: $(STAMP)
	@if $(HAS_CJK); then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make: no Chinese (CJK) font for the charts; as root run: apt-get install fonts-wqy-microhei (or use --lang en)" >&2; \
	  exit 1; \
	fi; \
	echo "installing a CJK font (fonts-wqy-microhei) for the charts"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig; \
	$(HAS_CJK) || { echo "make: fonts-wqy-microhei did not give matplotlib a CJK font" >&2; exit 1; }

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[$(EXTRAS)]'
	touch $@
