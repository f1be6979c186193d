# Loads the apmsock pytest plugin for everything under harness/.
pytest_plugins = ["apmsock_harness.plugin", "apmsock_harness.topology_plugin"]
