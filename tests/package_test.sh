#!/usr/bin/env bash
# Builds the Debian package from a build tree, unpacks it into a temporary root and checks what it
# holds: both programs (stripped, runnable from the unpacked tree with its own models), a manual page
# for the window, for cattery-cli and for each of its subcommands, bash completion, the copyright file
# and changelog, the desktop integration, the shipped models and the OpenBLAS dependency; then that
# `cattery-cli eval --json` writes JSON alone to standard output. Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

(cd "$build" && cpack -G DEB -B "$work/out" > "$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log" >&2
  fail "cpack could not build the package"
}
deb=$(ls "$work"/out/cattery_*.deb)
root=$work/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -f "$deb" Depends | grep -q 'libopenblas0-pthread' || fail "the package does not depend on OpenBLAS"
[[ $(dpkg-deb -f "$deb" Section) == graphics ]] || fail "the package's section is not graphics"

expect=(
  usr/bin/cattery usr/bin/cattery-cli
  usr/share/man/man1/cattery.1.gz usr/share/man/man1/cattery-cli.1.gz
  usr/share/bash-completion/completions/cattery-cli
  usr/share/doc/cattery/copyright usr/share/doc/cattery/changelog.gz
  usr/share/applications/org.cattery.Cattery.desktop
  usr/share/metainfo/org.cattery.Cattery.metainfo.xml
  usr/share/mime/packages/cattery.xml
  usr/share/icons/hicolor/256x256/apps/cattery.png
  usr/share/cattery/models/chubby.cattery usr/share/cattery/models/emoji.cattery
  usr/share/cattery/models/three.cattery usr/share/cattery/models/README.md
)
cli=$root/usr/bin/cattery-cli
# Every subcommand the program lists has its page.
commands=$("$cli" --help | awk '/^Subcommands:/ {on = 1; next} on && NF {print $1}')
[[ -n $commands ]] || fail "cattery-cli --help lists no subcommands"
for c in $commands; do
  expect+=("usr/share/man/man1/cattery-cli-$c.1.gz")
done
for f in "${expect[@]}"; do
  [[ -f $root/$f ]] || fail "the package lacks $f"
done
for b in cattery cattery-cli; do
  if readelf -S "$root/usr/bin/$b" | grep -q '\.symtab'; then
    fail "usr/bin/$b is not stripped"
  fi
done
# The pages render without complaint, and each subcommand's names its options.
for page in "$root"/usr/share/man/man1/*.gz; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null || true)
  [[ -z $warnings ]] || fail "$(basename "$page"): $warnings"
done
LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$root/usr/share/man/man1/cattery-cli-train.1.gz" 2> /dev/null |
  grep -q -- '--resume' || fail "the train page does not describe --resume"
# Completion offers the subcommands and their options.
completed=$(bash -c "source '$root/usr/share/bash-completion/completions/cattery-cli'
  COMP_WORDS=(cattery-cli train --ste); COMP_CWORD=2; _cattery_cli; echo \"\${COMPREPLY[*]}\"")
[[ $completed == --steps ]] || fail "completion of 'train --ste' gave '$completed'"

# The window's --help and --version answer without a display.
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM= "$root/usr/bin/cattery" --help > "$work/help.txt" 2>&1 ||
  fail "cattery --help failed without a display: $(cat "$work/help.txt")"
grep -q 'folder' "$work/help.txt" || fail "cattery --help does not describe its path: $(cat "$work/help.txt")"
env -u DISPLAY "$root/usr/bin/cattery" --version | grep -q "^cattery " || fail "cattery --version"

# The unpacked program finds its own shipped models, and --json output is JSON alone.
"$cli" info > "$work/info.txt" 2>&1 || fail "cattery-cli info failed: $(cat "$work/info.txt")"
grep -q "$root/usr/share/cattery/models" "$work/info.txt" ||
  fail "cattery-cli did not open the package's own default model: $(head -3 "$work/info.txt")"
"$cli" cats --count 24 --size 32 --seed 5 --out "$work/cats" > /dev/null
"$cli" eval --data "$work/cats" --count 8 --json 2> /dev/null | python3 -m json.tool > /dev/null ||
  fail "cattery-cli eval --json did not print JSON alone"
echo "package ok: ${#expect[@]} files checked in $(basename "$deb")"
