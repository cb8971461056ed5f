"""Scanner adapters: each runs one tool and parses its report into `Finding`s."""
