"""`python -m bench …` from the checkout: one subcommand per benchmark module.

Modules are imported here, but they import TensorFlow only when they run. Errors a person can fix print one line
and exit 2, as `python -m seqlab` does.
"""

from __future__ import annotations

import sys

from bench.generation import add_generation_command
from bench.lesson_screenshots import add_lesson_screenshots_command
from bench.quality import add_quality_command
from bench.screenshots import add_screenshots_command
from bench.training import add_training_command
from bench.watchers import add_watchers_command
from seqlab.cli.main import EXIT_USER_ERROR, OneLineErrorParser, import_tensorflow_quietly
from seqlab.errors import SeqlabError


def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(prog="python -m bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK",
                                     parser_class=OneLineErrorParser)
    for add_command in (add_generation_command, add_training_command, add_quality_command,
                        add_watchers_command, add_screenshots_command, add_lesson_screenshots_command):
        add_command(commands)
    args = parser.parse_args(argv)
    import_tensorflow_quietly()
    try:
        args.handler(args)
    except SeqlabError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
