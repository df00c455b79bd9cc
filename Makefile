# Two commands set up a fresh machine:  `make baseline`  and  `make test`.
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: baseline test install

baseline: $(STAMP)  ## install, then run the baseline scenario with its charts into out/baseline
	$(VENV)/bin/nxmfg simulate scenarios/baseline.yaml --out out/baseline

test: $(STAMP)  ## install, then run the test suite
	$(VENV)/bin/pytest

install: $(STAMP)

# A CJK font so that Chinese chart labels render (Debian's WenQuanYi Micro Hei), then the package.
$(STAMP): pyproject.toml
	@if [ -z "$$(fc-list :lang=zh 2>/dev/null)" ]; then \
	  echo "installing a CJK font (fonts-wqy-microhei) for the charts"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig; \
	fi
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@
