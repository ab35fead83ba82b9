#!/bin/sh
# SPDX-License-Identifier: MIT
# binfmt-run.sh SYSROOT COMMAND [ARGS...]
#
# Runs COMMAND with the kernel able to exec aarch64 and armhf ELF binaries through qemu-user,
# without touching the machine's global state: the caller runs this script inside a fresh user
# + mount namespace (the script re-execs itself under `unshare -Urm --propagation private` when
# it is not there yet). Kernels >= 6.7 give every user namespace its own binfmt_misc, so we
# mount one and register qemu-aarch64 / qemu-arm (flag F: the interpreter is opened now).
# QEMU_LD_PREFIX=SYSROOT lets the emulator find the target's dynamic loader and libraries.
# Needed by tests whose binary posix_spawns itself (see docs/processes.md, "Running the self-spawning tests under qemu").
# Inside the namespace SCHED_FIFO is refused (EPERM): run real-time tests outside it.
set -eu
if [ "$#" -lt 2 ]; then
  echo "usage: $0 SYSROOT COMMAND [ARGS...]" >&2
  exit 2
fi
if [ "${STATICRT_BINFMT_INNER:-}" != 1 ]; then
  STATICRT_BINFMT_INNER=1 exec unshare -Urm --propagation private sh "$0" "$@"
fi
sysroot=$1
shift
export QEMU_LD_PREFIX="$sysroot"
dir=/proc/sys/fs/binfmt_misc
if [ ! -e "$dir/register" ]; then
  mount -t binfmt_misc binfmt_misc "$dir"
fi
register() {  # name magic mask interpreter
  if [ -x "$4" ] && [ ! -e "$dir/$1" ]; then
    printf ':%s:M::%s:%s:%s:F' "$1" "$2" "$3" "$4" > "$dir/register"
  fi
}
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
register qemu-aarch64 '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00' "$mask" /usr/bin/qemu-aarch64
register qemu-arm '\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00' "$mask" /usr/bin/qemu-arm
exec "$@"
