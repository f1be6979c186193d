# mutation/: how much of reference/src the suites check (mutation/README.md).
#   make mutation [MUTANTS=N] [SEED=S] [MUTATION_SANITIZERS=1] [MUTATION_JOBS=J]
#                       judge the mutants (default: all), resumable, report in
#                       $(REPORTS)/mutation/ (linked from index.html)
#   check-mutation-self the tool's own tests (part of `make test`)

.PHONY: mutation check-mutation-self
test: check-mutation-self

mutation:
	$(PYTHON) mutation/mutate.py run $(if $(MUTANTS),--mutants $(MUTANTS)) --seed $(or $(SEED),1) \
	  $(if $(MUTATION_JOBS),--jobs $(MUTATION_JOBS)) $(if $(filter 1,$(MUTATION_SANITIZERS)),--sanitizers) \
	  --out $(REPORTS)/mutation

check-mutation-self:
	$(PYTHON) -m pytest -q -p no:cacheprovider mutation/tests
