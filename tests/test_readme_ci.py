"""CI must run exactly the README's set-up commands: nothing hidden beside them."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", text, re.S)
    assert block, "README.md lost its 'Two commands' bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_the_readme_commands():
    ci = ROOT / ".ci" / "run"
    if not ci.exists():  # installed copy of the tests without the repository around it
        return
    ci_lines = [line.strip() for line in ci.read_text().splitlines()]
    cmds = _readme_commands()
    assert len(cmds) == 2
    for cmd in cmds:
        assert cmd in ci_lines, f"README command not run by .ci/run: {cmd}"
