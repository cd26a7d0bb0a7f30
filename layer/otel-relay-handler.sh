#!/bin/sh
# AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler. Lambda runs this for the runtime process only, with
# the runtime's command line as arguments; extensions never see it, so nothing here reaches the
# otel-relay extension. It redirects the handler to the zero-code module, which loads the function's
# own handler (kept in OTEL_RELAY_ORIGINAL_HANDLER) and traces it. No NODE_OPTIONS are added.
dir=$(dirname "$0")
case "$_HANDLER" in
  */otel-relay/zero-code.handler) ;; # already redirected (the wrapper ran twice)
  *)
    OTEL_RELAY_ORIGINAL_HANDLER="$_HANDLER"
    export OTEL_RELAY_ORIGINAL_HANDLER
    _HANDLER="$dir/otel-relay/zero-code.handler"
    export _HANDLER
    ;;
esac
exec "$@"
