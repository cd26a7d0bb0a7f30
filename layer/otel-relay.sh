#!/bin/sh
# Lambda execs every file in /opt/extensions; the file name is the extension's name, and registration
# must use exactly that name, so it is passed on (a renamed copy of this launcher still registers).
# The customer's NODE_OPTIONS reaches extensions too (--require hooks, heap flags), so it is removed.
unset NODE_OPTIONS
OTEL_RELAY_EXTENSION_NAME=$(basename "$0")
export OTEL_RELAY_EXTENSION_NAME
dir=$(dirname "$0")/../otel-relay
# The managed Node.js runtimes ship node here; elsewhere (custom runtimes with node on PATH) use PATH.
if [ -x /var/lang/bin/node ]; then exec /var/lang/bin/node "$dir/extension.js"; fi
exec node "$dir/extension.js"
