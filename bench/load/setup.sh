#!/bin/sh
# Installs the peers of the fan-out benchmark (bench/load/fanout.ts):
# Node-Media-Server from npm into bench/load/.peers (git-ignored), and nginx
# with the RTMP module from Debian when they are missing. ffmpeg publishes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
peers="$here/.peers"
mkdir -p "$peers"

if [ ! -f "$peers/node_modules/node-media-server/bin/app.js" ]; then
  command -v npm >/dev/null || { echo "npm is missing: install Node.js 18 or later" >&2; exit 1; }
  npm i --prefix "$peers" --no-audit --no-fund node-media-server@4.4.3
fi

need_apt=""
command -v nginx >/dev/null || need_apt="nginx"
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need_apt="$need_apt libnginx-mod-rtmp"
command -v ffmpeg >/dev/null || need_apt="$need_apt ffmpeg"
# The GStreamer peer of the RTSP fan-out (fanout.ts --protocol rtsp-tcp|rtsp-udp):
# gst-rtsp-server through python3-gst, for /usr/bin/python3 (not a pyenv one).
for pkg in gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    need_apt="$need_apt $pkg"
done
if [ -n "$need_apt" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  # shellcheck disable=SC2086
  $sudo apt-get install -y $need_apt
fi
# The Debian package starts nginx on port 80; the benchmark runs its own copy.
echo "peers ready: $(nginx -v 2>&1), node-media-server $(node -p "require('$peers/node_modules/node-media-server/package.json').version")"
echo "RTSP peer ready: $(/usr/bin/python3 -c "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); print(Gst.version_string())")"
