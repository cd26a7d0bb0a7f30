#!/bin/bash
# Lambda execs every file in /opt/extensions; the file name is the extension's name, and registration
# must use exactly that name, so it is passed on (a renamed copy of this launcher still registers).
#
# Lambda starts the runtime only once every extension has registered, so Node's own boot (tens of ms)
# would sit on the function's Init. This launcher registers first, over bash's /dev/tcp, and then execs
# node with the identifier: the same process, now registered, boots while the runtime starts. When
# anything in that fails, node is started without an identifier and registers itself.
# Without node (Python, Java, `provided` runtimes), the launcher registers and answers events in the
# shell, so attaching the layer never breaks the function. Builtins only: PATH may hold nothing.

# The customer's NODE_OPTIONS reaches extensions too (--require hooks, heap flags), so it is removed.
unset NODE_OPTIONS
OTEL_RELAY_EXTENSION_NAME=${0##*/}
export OTEL_RELAY_EXTENSION_NAME
dir=${0%/*}/../otel-relay
# start.js runs the bundle with its V8 code cache (made at build); the bundle alone runs the same way.
entry=$dir/start.js
[ -f "$entry" ] || entry=$dir/extension.js
# OTEL_RELAY_LAUNCHER_REGISTER=false leaves registration to node. OTEL_RELAY_LAUNCHER_TIMEOUT_S: seconds
# a read from the local API may take once it has started to answer (register, headers, bodies); `next`
# itself is a long poll (the process is frozen inside it), so its first line has no timeout.
read_timeout=${OTEL_RELAY_LAUNCHER_TIMEOUT_S:-2}

# One HTTP/1.1 exchange with AWS_LAMBDA_RUNTIME_API on a fresh connection (fd 3). Sets status, header
# values id (Lambda-Extension-Identifier) and body. $1 method, $2 path, $3 extra header lines, $4 body,
# $5 timeout of the status line ("" = none). Returns non-zero on any fault.
api() {
  local LC_ALL=C host port line len=0 chunked='' size chunk
  host=${AWS_LAMBDA_RUNTIME_API%:*}
  port=${AWS_LAMBDA_RUNTIME_API##*:}
  host=${host#[}
  host=${host%]}
  [ -n "$AWS_LAMBDA_RUNTIME_API" ] && [ "$host" != "$port" ] || return 1
  exec 3<>"/dev/tcp/$host/$port" || return 1
  printf '%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$1" "/2020-01-01$2" "$AWS_LAMBDA_RUNTIME_API" "$3" "${#4}" "$4" >&3 || { exec 3<&-; return 1; }
  status='' id='' body=''
  if [ -n "$5" ]; then read -r -t "$5" line <&3 || { exec 3<&-; return 1; }
  else read -r line <&3 || { exec 3<&-; return 1; }; fi
  line=${line%$'\r'}
  status=${line#* }
  status=${status%% *}
  while read -r -t "$read_timeout" line <&3; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    case ${line,,} in
    lambda-extension-identifier:*) id=${line#*:} id=${id# } ;;
    content-length:*) len=${line#*:} len=${len// /} ;;
    transfer-encoding:*chunked*) chunked=1 ;;
    esac
  done
  [ -z "$line" ] || { exec 3<&-; return 1; }
  if [ -n "$chunked" ]; then
    while read -r -t "$read_timeout" size <&3; do
      size=$((16#${size%$'\r'}))
      [ "$size" -eq 0 ] && break
      read -r -t "$read_timeout" -N "$size" chunk <&3 || break
      body+=$chunk
      read -r -t "$read_timeout" line <&3 || break
    done
  elif [ "$len" -gt 0 ] 2>/dev/null; then
    read -r -t "$read_timeout" -N "$len" body <&3
  fi
  exec 3<&-
  [ -n "$status" ]
}

# Managed Instances register SHUTDOWN only; that decision is node's, so it registers there itself.
managed=''
if [ "$AWS_LAMBDA_INITIALIZATION_TYPE" = lambda-managed-instances ] || [ -n "$OTEL_RELAY_MANAGED_INSTANCES" ]; then
  managed=1
fi

register() {
  api POST /extension/register "Lambda-Extension-Name: $OTEL_RELAY_EXTENSION_NAME"$'\r\n'"Content-Type: application/json"$'\r\n' \
    "{\"events\":[$1]}" "$read_timeout" && [ "$status" = 200 ] && [ -n "$id" ] && ext_id=$id
}

# The managed Node.js runtimes ship node here; elsewhere (custom runtimes with node on PATH) use PATH.
node=/var/lang/bin/node
[ -x "$node" ] || node=$(command -v node 2>/dev/null)

if [ -z "$node" ]; then
  # No node: register for SHUTDOWN only when that is all Lambda allows; otherwise INVOKE too, so every
  # event is answered at once. Each `next` returns immediately to the platform's loop.
  if [ -n "$managed" ]; then register '"SHUTDOWN"'; else register '"INVOKE","SHUTDOWN"'; fi || {
    echo "otel-relay: no Node.js on this runtime and registration failed (status ${status:-none}); the extension exits" >&2
    exit 1
  }
  echo "otel-relay: no Node.js on this runtime (looked for /var/lang/bin/node and node on PATH); passing events through: the function runs unaffected and no telemetry is collected"
  while api GET /extension/event/next "Lambda-Extension-Identifier: $ext_id"$'\r\n' '' ''; do
    [ "$status" = 200 ] || exit 1
    case $body in *'"SHUTDOWN"'*) exit 0 ;; esac
  done
  exit 1
fi

if [ -z "$managed" ] && [ "$OTEL_RELAY_LAUNCHER_REGISTER" != false ] && register '"INVOKE","SHUTDOWN"'; then
  exec "$node" "$entry" "--extension-id=$ext_id"
fi
exec "$node" "$entry"
