#!/usr/bin/env bash
# Helpers shared by the action's scripts: workflow commands with their message made inert.

# Escape a workflow command's message (%, CR and LF) so text from inputs cannot start a command.
command_data() {
  local text="$1"
  text="${text//%/%25}"
  text="${text//$'\r'/%0D}"
  text="${text//$'\n'/%0A}"
  printf '%s' "$text"
}

warn() { printf '::warning::%s\n' "$(command_data "$*")"; }
error() { printf '::error::%s\n' "$(command_data "$*")"; }
