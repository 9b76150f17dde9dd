"""One module per command of `myopenip`: its options (`add_arguments`) and `run(args)`."""
