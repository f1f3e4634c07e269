#!/bin/sh
# Start script of the compose stack's "odoo" and "init" services. The official
# odoo image's /entrypoint.sh runs it (any command other than "odoo" is exec'd
# as is); it ends by exec'ing "/entrypoint.sh odoo ...", so the image's own
# handling of HOST/PORT/USER/PASSWORD (--db_* arguments) and its wait for
# PostgreSQL still apply.
#
#   odoo-compose serve [ODOO ARGS]  the long-running server; never installs or
#                                   updates a module
#   odoo-compose init               installs both addons with demo data into the
#                                   database "odoo" unless they are installed
#                                   there already, then exits
#   odoo-compose update             updates both addons (-u) and exits
#
# First it writes the effective configuration ($ODOO_RC): the committed base
# ($ODOO_BASE_CONF, docker/odoo.conf) plus the three secrets below. Each one is
# the environment variable when it is set and not empty (from an untracked .env
# through docker-compose.yml), else the file of that name in $ODOO_SECRETS_DIR,
# generated on first start and never rewritten: that directory is a named
# volume, because losing the keys makes the stored credentials undecryptable.
#
#   ODOO_ADMIN_PASSWD              admin_passwd (master password)
#   USAGE_BILLING_ENCRYPTION_KEYS  [usage_billing] encryption_keys
#   CRM_SYNC_ENCRYPTION_KEYS       [crm_sync] encryption_keys
set -eu

ADDONS=usage_billing_connector,crm_sync_connector
# The database of docker/odoo.conf (db_name, dbfilter).
DB_NAME=odoo
BASE_CONF=${ODOO_BASE_CONF:-/mnt/extra-addons/docker/odoo.conf}
SECRETS_DIR=${ODOO_SECRETS_DIR:-/var/lib/odoo-secrets}
ENTRYPOINT=${ODOO_ENTRYPOINT:-/entrypoint.sh}
ODOO_RC=${ODOO_RC:-/etc/odoo/odoo.conf}
export ODOO_RC

log() { printf 'odoo-compose: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

generate() {
    case $1 in
        fernet) python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' ;;
        password) python3 -c 'import secrets; print(secrets.token_urlsafe(24))' ;;
    esac
}

# secret NAME KIND: prints the value of the environment variable NAME when set,
# else the content of $SECRETS_DIR/NAME, created once with a KIND value.
secret() {
    eval "value=\${$1:-}"
    file=$SECRETS_DIR/$1
    if [ -n "$value" ]; then
        if [ "$2" = fernet ] && [ -s "$file" ]; then
            stored=$(cat "$file")
            case ",$(printf '%s' "$value" | tr -d ' ')," in
                *",$stored,"*) ;;
                *) log "warning: $1 does not include the key generated in $file;" \
                    "what was encrypted with it cannot be decrypted (append it to $1)" ;;
            esac
        fi
        printf '%s\n' "$value"
        return
    fi
    if [ ! -s "$file" ]; then
        if [ ! -d "$SECRETS_DIR" ] || [ ! -w "$SECRETS_DIR" ]; then
            die "$1 is not set and $SECRETS_DIR (the odoo-secrets volume) is not writable"
        fi
        tmp=$(mktemp "$SECRETS_DIR/.$1.XXXXXX") || die "cannot write in $SECRETS_DIR"
        generate "$2" >"$tmp" || die "could not generate $1"
        [ -s "$tmp" ] || die "could not generate $1"
        # ln refuses to replace an existing file: two first starts at once keep one value.
        ln "$tmp" "$file" 2>/dev/null || [ -s "$file" ] || die "could not create $file"
        rm -f "$tmp"
        log "generated $file on first start: back it up (README.md, Docker)"
    fi
    cat "$file"
}

# check_keys NAME VALUE: VALUE is what the addons accept (comma-separated Fernet keys).
check_keys() {
    python3 - "$2" <<'EOF' || die "$1 is not a comma-separated list of Fernet keys"
import sys

from cryptography.fernet import Fernet

keys = [key.strip() for key in sys.argv[1].split(",") if key.strip()]
try:
    [Fernet(key.encode()) for key in keys]
except ValueError:
    keys = []
sys.exit(0 if keys else 1)
EOF
}

write_config() {
    [ -r "$BASE_CONF" ] || die "cannot read the base configuration $BASE_CONF"
    grep -q '^\[options\][[:space:]]*$' "$BASE_CONF" || die "$BASE_CONF has no [options] section"
    if grep -Eq '^[[:space:]]*(admin_passwd[[:space:]]*=|\[(usage_billing|crm_sync)\])' "$BASE_CONF"; then
        die "$BASE_CONF must not set admin_passwd nor the [usage_billing]/[crm_sync] sections"
    fi
    saved_umask=$(umask)
    umask 077
    master_password=$(secret ODOO_ADMIN_PASSWD password) || exit 1
    usage_billing_keys=$(secret USAGE_BILLING_ENCRYPTION_KEYS fernet) || exit 1
    crm_sync_keys=$(secret CRM_SYNC_ENCRYPTION_KEYS fernet) || exit 1
    check_keys USAGE_BILLING_ENCRYPTION_KEYS "$usage_billing_keys"
    check_keys CRM_SYNC_ENCRYPTION_KEYS "$crm_sync_keys"
    for value in "$master_password" "$usage_billing_keys" "$crm_sync_keys"; do
        case $value in *'
'*) die "a secret spans several lines" ;;
        esac
    done
    printf '' 2>/dev/null >"$ODOO_RC" || die "cannot write the effective configuration $ODOO_RC"
    chmod 600 "$ODOO_RC"
    # The generated secrets join the base configuration in one writer; they
    # travel through the environment, never on a command line (ps shows it).
    ODOO_COMPOSE_MASTER=$master_password ODOO_COMPOSE_USAGE_KEYS=$usage_billing_keys \
        ODOO_COMPOSE_CRM_KEYS=$crm_sync_keys python3 - "$BASE_CONF" >"$ODOO_RC" <<'EOF' ||
import configparser
import os
import sys

config = configparser.ConfigParser(interpolation=None)
config.read(sys.argv[1])
config["options"]["admin_passwd"] = os.environ["ODOO_COMPOSE_MASTER"]
config["usage_billing"] = {"encryption_keys": os.environ["ODOO_COMPOSE_USAGE_KEYS"]}
config["crm_sync"] = {"encryption_keys": os.environ["ODOO_COMPOSE_CRM_KEYS"]}
config.write(sys.stdout)
EOF
        die "cannot write the effective configuration $ODOO_RC"
    umask "$saved_umask"
}

# psql against the database server, with the defaults of the image's
# /entrypoint.sh (HOST, PORT, USER, PASSWORD or PASSWORD_FILE).
pg() {
    database=$1
    shift
    password=${PASSWORD:-odoo}
    if [ -n "${PASSWORD_FILE:-}" ]; then
        password=$(cat "$PASSWORD_FILE")
    fi
    PGPASSWORD=$password PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 \
        -h "${HOST:-db}" -p "${PORT:-5432}" -U "${USER:-odoo}" -d "$database" -tA "$@"
}

# Prints "ready" when both addons are installed in $DB_NAME, else "missing".
database_state() {
    tries=0
    until pg postgres -c 'SELECT 1' >/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -lt 30 ] || die "PostgreSQL on ${HOST:-db}:${PORT:-5432} does not answer"
        sleep 1
    done
    exists=$(pg postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'") \
        || exit 1
    if [ "$exists" != 1 ]; then
        echo missing
        return
    fi
    tables=$(pg "$DB_NAME" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'ir_module_module'") \
        || exit 1
    if [ "$tables" != 1 ]; then
        echo missing
        return
    fi
    installed=$(pg "$DB_NAME" -c "SELECT count(*) FROM ir_module_module
        WHERE state = 'installed' AND name IN ('usage_billing_connector', 'crm_sync_connector')") \
        || exit 1
    if [ "$installed" = 2 ]; then echo ready; else echo missing; fi
}

mode=${1:-serve}
[ $# -eq 0 ] || shift
case $mode in
    serve)
        write_config
        exec "$ENTRYPOINT" odoo "$@"
        ;;
    init)
        write_config
        state=$(database_state) || exit 1
        if [ "$state" = ready ]; then
            log "database $DB_NAME: $ADDONS already installed, nothing to do"
            exit 0
        fi
        log "database $DB_NAME: installing $ADDONS with demo data (first start)"
        exec "$ENTRYPOINT" odoo --database="$DB_NAME" --init="$ADDONS" --with-demo \
            --stop-after-init --workers=0 --max-cron-threads=0
        ;;
    update)
        write_config
        exec "$ENTRYPOINT" odoo --database="$DB_NAME" --update="$ADDONS" \
            --stop-after-init --workers=0 --max-cron-threads=0
        ;;
    *)
        die "usage: odoo-compose serve [odoo arguments] | init | update"
        ;;
esac
