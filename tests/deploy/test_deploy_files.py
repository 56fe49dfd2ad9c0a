"""Static checks of the deployment files in deploy/.

Docker cannot run where this project is developed and tested, so the Dockerfile and the
compose file are checked by parsing them, not by building. The systemd units are also run
through ``systemd-analyze verify`` when that tool is installed.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
COMPOSE = DEPLOY / "docker-compose.yml"
SERVICE = DEPLOY / "tiesbot.service"
BACKUP_SERVICE = DEPLOY / "tiesbot-backup.service"
BACKUP_TIMER = DEPLOY / "tiesbot-backup.timer"
NGINX = DEPLOY / "nginx" / "tiesbot.conf"
CADDYFILE = DEPLOY / "Caddyfile"
README = DEPLOY / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"

DATA_DIR = "/data"
STATE_DIR = "/var/lib/tiesbot"
TELEGRAM_SUBNETS = {"149.154.160.0/20", "91.108.4.0/22"}
# A Bot API token: numeric bot id, a colon, 35 characters of [A-Za-z0-9_-].
TOKEN_RE = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}\b")
SECRET_SETTINGS = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")


def env_example() -> dict[str, str]:
    settings: dict[str, str] = {}
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings


def assignments(items: list[str]) -> dict[str, str]:
    """KEY=VALUE strings (compose environment lists, systemd Environment=) as a mapping."""
    result: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        result[key] = value
    return result


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM stage the instruction belongs to (-1: before the first FROM)
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Split a Dockerfile into instructions (continuations joined, comments dropped)."""
    instructions: list[Instruction] = []
    stage = -1
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # comments (also inside continuations) and blank lines
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, args = joined.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage, start))
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def split_flags(args: str) -> tuple[dict[str, str], str]:
    """Separate leading --flag=value options from the rest of an instruction."""
    flags: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        name, _, value = word[2:].partition("=")
        flags[name] = value
        rest = rest.lstrip()
    return flags, rest


def exec_form(args: str) -> list[str] | None:
    """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD/VOLUME, or None for shell form."""
    if not args.startswith("["):
        return None
    value = json.loads(args)
    assert isinstance(value, list)
    assert all(isinstance(item, str) for item in value)
    return [str(item) for item in value]


def key_values(args: str) -> dict[str, str]:
    """ENV/ARG arguments as a mapping (KEY=VALUE pairs, or the legacy `ENV KEY VALUE`)."""
    words = shlex.split(args)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    pairs: dict[str, str] = {}
    for word in words:
        key, _, value = word.partition("=")
        pairs[key] = value
    return pairs


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(item.stage for item in instructions)
    return [item for item in instructions if item.stage == last]


def test_dockerfile_uses_slim_python_311_or_312(dockerfile: list[Instruction]) -> None:
    build_args: dict[str, str] = {}
    for item in dockerfile:
        if item.keyword == "ARG" and item.stage == -1:
            build_args.update(key_values(item.args))
    froms = [item for item in dockerfile if item.keyword == "FROM"]
    assert froms, "no FROM instruction"
    for item in froms:
        _, rest = split_flags(item.args)
        image = rest.split()[0]
        for name, value in build_args.items():
            image = image.replace("${" + name + "}", value).replace("$" + name, value)
        assert re.fullmatch(r"python:3\.1[12](\.\d+)?-slim(-[a-z]+)?", image), image


def test_dockerfile_runs_as_dedicated_non_root_user(dockerfile: list[Instruction]) -> None:
    stage = final_stage(dockerfile)
    users = [item for item in stage if item.keyword == "USER"]
    assert users, "the final stage has no USER instruction, so it runs as root"
    user, _, group = users[-1].args.partition(":")
    assert user not in {"root", "0", ""}
    assert group not in {"root", "0"}
    created = " ".join(item.args for item in stage if item.keyword == "RUN")
    assert re.search(rf"useradd\b[^&;]*\b{re.escape(user)}\b", created), (
        f"user {user!r} is not created with useradd in the final stage"
    )
    # Nothing after the USER switch goes back to root.
    last_user_index = stage.index(users[-1])
    assert all(item.keyword != "USER" for item in stage[last_user_index + 1 :])


def test_dockerfile_keeps_database_on_data_volume(dockerfile: list[Instruction]) -> None:
    stage = final_stage(dockerfile)
    volumes: list[str] = []
    for item in stage:
        if item.keyword == "VOLUME":
            volumes.extend(exec_form(item.args) or item.args.split())
    assert DATA_DIR in volumes
    env: dict[str, str] = {}
    for item in stage:
        if item.keyword == "ENV":
            env.update(key_values(item.args))
    assert env.get("DATABASE_PATH") == f"{DATA_DIR}/tiesbot.sqlite3"


def test_dockerfile_healthcheck_calls_tiesbot_health(dockerfile: list[Instruction]) -> None:
    checks = [item for item in final_stage(dockerfile) if item.keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    _, rest = split_flags(checks[0].args)
    assert rest.upper() != "NONE"
    kind, _, command = rest.partition(" ")
    assert kind.upper() == "CMD"
    argv = exec_form(command.strip()) or shlex.split(command)
    assert argv[:2] == ["tiesbot", "health"]


def test_dockerfile_cmd_and_exposed_port(dockerfile: list[Instruction]) -> None:
    stage = final_stage(dockerfile)
    cmds = [item for item in stage if item.keyword == "CMD"]
    assert cmds, "no CMD"
    assert exec_form(cmds[-1].args) == ["tiesbot", "run"]
    exposed = {
        word.split("/")[0]
        for item in stage
        if item.keyword == "EXPOSE"
        for word in item.args.split()
    }
    assert env_example()["WEBHOOK_PORT"] in exposed


def test_dockerfile_has_no_secrets(dockerfile: list[Instruction]) -> None:
    for item in dockerfile:
        if item.keyword not in {"ENV", "ARG"}:
            continue
        for key, value in key_values(item.args).items():
            assert key not in SECRET_SETTINGS, f"line {item.line}: {key} baked into the image"
            assert "TOKEN" not in key.upper(), f"line {item.line}: {key}"
            assert not TOKEN_RE.search(value), f"line {item.line}: token-looking value"


def test_dockerfile_copies_no_env_file_or_whole_context(dockerfile: list[Instruction]) -> None:
    copies = [item for item in dockerfile if item.keyword in {"COPY", "ADD"}]
    assert copies
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "readme"
    ]
    for item in copies:
        flags, rest = split_flags(item.args)
        words = exec_form(rest) or shlex.split(rest)
        sources = words[:-1]
        assert sources, f"line {item.line}: COPY without source"
        for source in sources:
            name = source.rstrip("/")
            assert not Path(name).name.startswith(".env"), f"line {item.line}: copies {source}"
            if "from" in flags:
                continue
            # Copying the whole build context would take .env along if the ignore file were
            # not used (classic builder, different context); copy named paths only.
            assert name not in {".", "*", "./", ""}, f"line {item.line}: copies the whole context"
            assert not any(ch in name for ch in "*?["), f"line {item.line}: wildcard {source}"
            # Every source is part of the repository. README.md is the root README that
            # pyproject.toml names as package readme; `pip install .` needs it.
            assert (ROOT / name).exists() or name == readme, f"line {item.line}: {source} missing"


def test_dockerfile_bundles_knowledge_where_knowledge_dir_points(
    dockerfile: list[Instruction],
) -> None:
    stage = final_stage(dockerfile)
    env: dict[str, str] = {}
    for item in stage:
        if item.keyword == "ENV":
            env.update(key_values(item.args))
    destinations = set()
    for item in stage:
        if item.keyword == "COPY":
            _, rest = split_flags(item.args)
            words = shlex.split(rest)
            if any(word.rstrip("/") == "knowledge" for word in words[:-1]):
                destinations.add(words[-1].rstrip("/"))
    assert env.get("KNOWLEDGE_DIR") in destinations


def test_dockerignore_excludes_secrets_and_local_state() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (".env", ".git", ".venv", "data"):
        assert required in patterns, required


def test_console_script_is_tiesbot() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "tiesbot" in project["scripts"]


# --------------------------------------------------------------------------------------------
# docker-compose.yml
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def service(compose: dict[str, Any]) -> dict[str, Any]:
    services = compose["services"]
    assert list(services) == ["tiesbot"]
    result = services["tiesbot"]
    assert isinstance(result, dict)
    return result


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    if isinstance(raw, list):
        return assignments([str(item) for item in raw])
    return {str(key): str(value) for key, value in raw.items()}


def test_compose_builds_deploy_dockerfile_from_repo_root(service: dict[str, Any]) -> None:
    build = service["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_reads_settings_from_repo_env_file(service: dict[str, Any]) -> None:
    raw = service["env_file"]
    entries = raw if isinstance(raw, list) else [raw]
    paths = [entry["path"] if isinstance(entry, dict) else entry for entry in entries]
    assert [(DEPLOY / path).resolve() for path in paths] == [ROOT / ".env"]
    env = compose_environment(service)
    for key in SECRET_SETTINGS:
        assert key not in env, f"{key} belongs in .env, not in the compose file"


def test_compose_mounts_named_volume_on_data(
    compose: dict[str, Any], service: dict[str, Any]
) -> None:
    mounts: dict[str, str] = {}
    for volume in service["volumes"]:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    assert DATA_DIR in mounts
    assert mounts[DATA_DIR] in compose["volumes"], "the /data volume is not a named volume"
    env = compose_environment(service)
    assert env["DATABASE_PATH"].startswith(DATA_DIR + "/")


def test_compose_restart_policy(service: dict[str, Any]) -> None:
    assert service["restart"] == "unless-stopped"


def test_compose_rotates_json_logs(service: dict[str, Any]) -> None:
    logging = service["logging"]
    assert logging["driver"] == "json-file"
    options = logging["options"]
    assert re.fullmatch(r"\d+[kmg]", str(options["max-size"]))
    assert int(options["max-file"]) >= 2


def test_compose_healthcheck_calls_tiesbot_health(service: dict[str, Any]) -> None:
    healthcheck = service.get("healthcheck")
    if healthcheck is None:
        return  # inherited from the image's HEALTHCHECK (checked above)
    assert not healthcheck.get("disable", False)
    test = healthcheck["test"]
    if isinstance(test, str):
        argv = shlex.split(test)
    elif test[0] == "CMD":
        argv = list(test[1:])
    else:
        assert test[0] == "CMD-SHELL", test
        argv = shlex.split(test[1])
    assert argv[:2] == ["tiesbot", "health"]


def test_compose_publishes_webhook_port_on_loopback_only(service: dict[str, Any]) -> None:
    for port in service.get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"{port} is reachable from outside"


# --------------------------------------------------------------------------------------------
# systemd units
# --------------------------------------------------------------------------------------------

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """Parse a systemd unit file; repeated keys keep every value (unlike configparser)."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"setting outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line}"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{key} set {len(values)} times"
    return values[0]


@pytest.fixture(scope="module")
def main_unit() -> Unit:
    return parse_unit(SERVICE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def backup_unit() -> Unit:
    return parse_unit(BACKUP_SERVICE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def timer_unit() -> Unit:
    return parse_unit(BACKUP_TIMER.read_text(encoding="utf-8"))


def test_service_runs_tiesbot_as_dedicated_user(main_unit: Unit) -> None:
    assert one(main_unit, "Service", "User") == "tiesbot"
    assert one(main_unit, "Service", "Group") == "tiesbot"
    assert one(main_unit, "Service", "WorkingDirectory") == "/opt/tiesbot"
    assert one(main_unit, "Service", "EnvironmentFile") == "/etc/tiesbot/tiesbot.env"
    assert one(main_unit, "Service", "ExecStart") == "/opt/tiesbot/.venv/bin/tiesbot run"
    assert one(main_unit, "Install", "WantedBy") == "multi-user.target"


def test_service_restarts_and_stops_gracefully(main_unit: Unit) -> None:
    assert one(main_unit, "Service", "Restart") == "on-failure"
    assert "RestartSec" in main_unit["Service"]
    assert one(main_unit, "Service", "KillSignal") == "SIGTERM"
    assert "TimeoutStopSec" in main_unit["Service"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectControlGroups", "yes"),
        ("LockPersonality", "yes"),
        ("RestrictSUIDSGID", "yes"),
    ],
)
def test_service_hardening(main_unit: Unit, key: str, expected: str) -> None:
    assert one(main_unit, "Service", key) == expected


def test_service_network_families_allow_http_client_and_webhook(main_unit: Unit) -> None:
    families = set(one(main_unit, "Service", "RestrictAddressFamilies").split())
    assert families == {"AF_INET", "AF_INET6", "AF_UNIX"}


def test_service_writes_only_to_its_state_dir(main_unit: Unit) -> None:
    service = main_unit["Service"]
    assert STATE_DIR in " ".join(service["ReadWritePaths"]).split()
    assert "tiesbot" in " ".join(service["StateDirectory"]).split()
    defaults = assignments(service.get("Environment", []))
    assert defaults["DATABASE_PATH"].startswith(STATE_DIR + "/")


def test_backup_service_runs_tiesbot_backup(main_unit: Unit, backup_unit: Unit) -> None:
    assert one(backup_unit, "Service", "Type") == "oneshot"
    assert one(backup_unit, "Service", "User") == one(main_unit, "Service", "User")
    assert one(backup_unit, "Service", "EnvironmentFile") == one(
        main_unit, "Service", "EnvironmentFile"
    )
    assert "/opt/tiesbot/.venv/bin/tiesbot backup " in one(backup_unit, "Service", "ExecStart")
    assert one(backup_unit, "Service", "NoNewPrivileges") == "yes"
    assert one(backup_unit, "Service", "ProtectSystem") == "strict"
    assert STATE_DIR in " ".join(backup_unit["Service"]["ReadWritePaths"]).split()


def test_backup_timer_is_daily_and_persistent(timer_unit: Unit) -> None:
    assert one(timer_unit, "Timer", "Unit") == BACKUP_SERVICE.name
    assert one(timer_unit, "Timer", "OnCalendar")
    assert one(timer_unit, "Timer", "Persistent") == "true"
    assert one(timer_unit, "Install", "WantedBy") == "timers.target"


EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost")


def point_missing_executables_at_true(text: str, true: str) -> str:
    """Replace Exec*= programs that do not exist on this machine by `true`.

    `systemd-analyze verify` fails with "Command ... is not executable" when the program
    of an Exec*= line is missing. /opt/tiesbot/.venv/bin/tiesbot only exists on an installed
    server, so the copy that is verified here runs an existing program instead; everything
    else in the unit is verified unchanged.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        key, sep, value = raw.partition("=")
        if sep and key.strip() in EXEC_KEYS:
            prefix = re.match(r"[-@:+!]*", value.strip())
            assert prefix is not None
            command = value.strip()[prefix.end() :]
            program, _, rest = command.partition(" ")
            if program.startswith("/") and not Path(program).exists():
                raw = f"{key}={prefix.group()}{true} {rest}".rstrip()
        lines.append(raw)
    return "\n".join(lines) + "\n"


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (package systemd); units only parsed")
    true = shutil.which("true")
    assert true is not None
    copies = []
    for unit in (SERVICE, BACKUP_SERVICE, BACKUP_TIMER):
        copy = tmp_path / unit.name
        copy.write_text(
            point_missing_executables_at_true(unit.read_text(encoding="utf-8"), true),
            encoding="utf-8",
        )
        copies.append(str(copy))
    result = subprocess.run(
        [analyze, "verify", "--man=no", *copies],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = (result.stdout + result.stderr).splitlines()
    # Unknown or misspelt settings only produce a warning with exit status 0, so any line
    # about our units counts as a failure too.
    ours = [line for line in output if str(tmp_path) in line or "tiesbot" in line]
    assert result.returncode == 0, "\n".join(output)
    assert not ours, "\n".join(ours)


# --------------------------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    line: int = 0
    children: list[Directive] = field(default_factory=list)

    def find(self, name: str) -> list[Directive]:
        return [child for child in self.children if child.name == name]


def nginx_tokens(text: str) -> Iterator[tuple[str, int]]:
    token = ""
    line = 1
    quote = ""
    comment = False
    for char in text:
        if char == "\n":
            line += 1
        if comment:
            comment = char != "\n"
            continue
        if quote:
            if char == quote:
                yield token, line
                token, quote = "", ""
            else:
                token += char
            continue
        if char in "\"'":
            quote = char
        elif char == "#" and not token:
            comment = True
        elif char.isspace() or char in "{};":
            if token:
                yield token, line
                token = ""
            if char in "{};":
                yield char, line
        else:
            token += char
    assert not quote, "unterminated quote"
    if token:
        yield token, line


def parse_nginx(text: str) -> Directive:
    root = Directive("", [])
    stack = [root]
    words: list[str] = []
    start = 0
    for token, line in nginx_tokens(text):
        if token == ";":
            assert words, f"line {line}: empty directive"
            stack[-1].children.append(Directive(words[0], words[1:], line=start))
            words = []
        elif token == "{":
            assert words, f"line {line}: block without a name"
            block = Directive(words[0], words[1:], line=start)
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"line {line}: directive without ';'"
            assert len(stack) > 1, f"line {line}: unbalanced '}}'"
            stack.pop()
        else:
            if not words:
                start = line
            words.append(token)
    assert not words, "directive without ';' at end of file"
    assert len(stack) == 1, "unclosed block"
    return root


def walk(directive: Directive) -> Iterator[Directive]:
    for child in directive.children:
        yield child
        yield from walk(child)


@pytest.fixture(scope="module")
def nginx() -> Directive:
    return parse_nginx(NGINX.read_text(encoding="utf-8"))


def tls_servers(nginx: Directive) -> list[Directive]:
    return [
        server
        for server in nginx.find("server")
        if any("ssl" in listen.args for listen in server.find("listen"))
    ]


# Argument counts (min, max) of the directives the example uses, from the nginx docs. Catches
# typos and a missing ';' (which glues two directives together) without nginx installed.
NGINX_ARITY: dict[str, tuple[int, int]] = {
    "server": (0, 0),
    "location": (1, 2),
    "limit_except": (1, 9),
    "listen": (1, 6),
    "server_name": (1, 20),
    "root": (1, 1),
    "return": (1, 2),
    "allow": (1, 1),
    "deny": (1, 1),
    "ssl_certificate": (1, 1),
    "ssl_certificate_key": (1, 1),
    "ssl_protocols": (1, 5),
    "ssl_prefer_server_ciphers": (1, 1),
    "ssl_session_cache": (1, 2),
    "ssl_session_timeout": (1, 1),
    "client_max_body_size": (1, 1),
    "server_tokens": (1, 1),
    "proxy_pass": (1, 1),
    "proxy_http_version": (1, 1),
    "proxy_set_header": (2, 2),
    "proxy_connect_timeout": (1, 1),
    "proxy_read_timeout": (1, 1),
}


def test_nginx_directives_are_known_with_right_argument_count(nginx: Directive) -> None:
    for item in walk(nginx):
        assert item.name in NGINX_ARITY, f"line {item.line}: unexpected directive {item.name}"
        low, high = NGINX_ARITY[item.name]
        assert low <= len(item.args) <= high, f"line {item.line}: {item.name} {item.args}"


def test_nginx_terminates_tls_with_lets_encrypt(nginx: Directive) -> None:
    servers = tls_servers(nginx)
    assert len(servers) == 1
    (server,) = servers
    (cert,) = server.find("ssl_certificate")
    (key,) = server.find("ssl_certificate_key")
    assert cert.args[0].startswith("/etc/letsencrypt/live/")
    assert cert.args[0].endswith("/fullchain.pem")
    assert key.args[0].startswith("/etc/letsencrypt/live/")
    assert key.args[0].endswith("/privkey.pem")


def test_nginx_proxies_only_webhook_path_to_loopback(nginx: Directive) -> None:
    port = env_example()["WEBHOOK_PORT"]
    proxies = [item for item in walk(nginx) if item.name == "proxy_pass"]
    assert proxies
    for proxy in proxies:
        assert proxy.args == [f"http://127.0.0.1:{port}"], proxy.args
    (server,) = tls_servers(nginx)
    proxied = [loc for loc in server.find("location") if loc.find("proxy_pass")]
    assert len(proxied) == 1
    # An exact-match location: one path, nothing below it.
    assert proxied[0].args[0] == "="
    assert proxied[0].args[1].startswith("/")
    others = [loc for loc in server.find("location") if loc is not proxied[0]]
    assert all(not loc.find("proxy_pass") for loc in others)


def test_nginx_passes_secret_token_header(nginx: Directive) -> None:
    (server,) = tls_servers(nginx)
    (location,) = [loc for loc in server.find("location") if loc.find("proxy_pass")]
    headers = {item.args[0].lower(): item.args[1] for item in location.find("proxy_set_header")}
    assert headers["x-telegram-bot-api-secret-token"] == "$http_x_telegram_bot_api_secret_token"


def test_nginx_allow_list_is_telegrams_subnets(nginx: Directive) -> None:
    (server,) = tls_servers(nginx)
    (location,) = [loc for loc in server.find("location") if loc.find("proxy_pass")]
    allowed = {item.args[0] for item in location.find("allow")}
    if not allowed:
        return  # the subnet filter is optional
    assert allowed == TELEGRAM_SUBNETS
    assert [item.args for item in location.find("deny")] == [["all"]]


def test_caddyfile_proxies_to_loopback() -> None:
    text = CADDYFILE.read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in text.splitlines())
    assert code.count("{") == code.count("}")
    port = env_example()["WEBHOOK_PORT"]
    assert re.search(rf"^\s*reverse_proxy 127\.0\.0\.1:{port}\s*$", code, re.MULTILINE)
    assert set(re.findall(r"\d+\.\d+\.\d+\.\d+/\d+", code)) <= TELEGRAM_SUBNETS


# --------------------------------------------------------------------------------------------
# Everything in deploy/
# --------------------------------------------------------------------------------------------


def deploy_files() -> list[Path]:
    return sorted(path for path in DEPLOY.rglob("*") if path.is_file())


@pytest.mark.parametrize("path", deploy_files(), ids=lambda path: str(path.relative_to(DEPLOY)))
def test_no_token_in_deploy_files(path: Path) -> None:
    assert not TOKEN_RE.search(path.read_text(encoding="utf-8"))


def test_readme_documents_every_setting_and_the_essentials() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())  # ignore line wrapping
    for key in env_example():
        assert f"`{key}`" in text, f"{key} is not documented in deploy/README.md"
    for phrase in (
        "/newbot",
        "/setinline",
        "/setprivacy",
        "tiesbot doctor",
        "tiesbot backup",
        "tiesbot restore",
        "journalctl -u tiesbot",
        "docker compose",
        "0600",
        "Docker itself cannot run on the machines this project is developed and tested on",
    ):
        assert phrase in text, phrase
