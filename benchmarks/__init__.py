"""Scripts that measure speed and scale and print a table. Run them as modules
(`python -m benchmarks.optimizer`): run as files, this folder would shadow the packages."""
