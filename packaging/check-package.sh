#!/usr/bin/env bash
# Checks a built Cattery package with the tools Debian and the desktops use, when they are
# installed: lintian on the .deb, appstreamcli on the AppStream file, desktop-file-validate on the
# desktop entry. Exits non-zero on the first tool that finds an error; a missing tool is skipped with
# a note. Usage: packaging/check-package.sh [path/to/cattery_*.deb] (default: the newest in build/).
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-$(ls -t "${CATTERY_BUILD_DIR:-build}"/cattery_*.deb 2>/dev/null | head -n 1)}
if [[ -z $deb || ! -f $deb ]]; then
  echo "no package found: build one with (cd build && cpack -G DEB)" >&2
  exit 2
fi
status=0
if command -v lintian > /dev/null; then
  echo "== lintian $deb"
  # Errors and warnings fail; info and pedantic tags are shown but pass.
  lintian --tag-display-limit 0 --fail-on error,warning "$deb" || status=1
else
  echo "lintian is not installed: skipped (apt install lintian)"
fi
if command -v appstreamcli > /dev/null; then
  echo "== appstreamcli validate"
  appstreamcli validate --no-net resources/org.cattery.Cattery.metainfo.xml || status=1
else
  echo "appstreamcli is not installed: skipped (apt install appstream)"
fi
if command -v desktop-file-validate > /dev/null; then
  echo "== desktop-file-validate"
  desktop-file-validate resources/org.cattery.Cattery.desktop || status=1
else
  echo "desktop-file-validate is not installed: skipped (apt install desktop-file-utils)"
fi
exit $status
