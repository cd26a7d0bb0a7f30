#!/bin/sh
# Lambda execs every file in /opt/extensions; the file name is the extension's name.
# The customer's NODE_OPTIONS reaches extensions too (--require hooks, heap flags), so it is removed.
unset NODE_OPTIONS
dir=$(dirname "$0")/../otel-relay
if [ -x /var/lang/bin/node ]; then exec /var/lang/bin/node "$dir/extension.js"; fi
exec node "$dir/extension.js"
