"""``python -m timebank`` runs the ``timebank`` command."""

from timebank.cli import main

if __name__ == "__main__":
    main()
