"""Render test-template-amd.j2 with Python's jinja2, the oracle of tests/bootstrap/amd-render.test.ts.

usage: python3 jinja2_render.py TEMPLATE STEPS_YAML OUT_DIR < cases.json

cases.json is a JSON object {name: {variable: value}}; each case's raw render (blank lines
included, as minijinja-cli prints it) is written to OUT_DIR/<name>.yaml. The step file is parsed
with PyYAML's safe_load, and jinja2 gets the one minijinja built-in the template uses that it
lacks: the `split` filter (str.split).
"""
import json
import os
import sys

import jinja2
import yaml


def main() -> None:
    template_path, steps_path, out_dir = sys.argv[1:4]
    with open(steps_path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    environment = jinja2.Environment()
    environment.filters["split"] = lambda value, sep=None: value.split(sep)
    with open(template_path, encoding="utf-8") as handle:
        template = environment.from_string(handle.read())
    for name, variables in json.load(sys.stdin).items():
        with open(os.path.join(out_dir, name + ".yaml"), "w", encoding="utf-8") as out:
            out.write(template.render(**{**data, **variables}))
    sys.stdout.write(jinja2.__version__ + "\n")


if __name__ == "__main__":
    main()
