"""kithara_serve as a child process, for the example tests (hls_playback_cli.py, play_cli.py).

    s = served(kithara_serve, root_dir, log_file)   # waits for the port it prints
    s.url("a/index.m3u8"); s.log()                 # log() stops it and returns the request log
"""
import atexit
import signal
import subprocess


class served:
    """kithara_serve over root; stopped at exit if still running."""

    def __init__(self, serve, root, log_file, *flags):
        self.log_file = log_file
        self.p = subprocess.Popen([serve, root, "--log", log_file, *flags],
                                  stdout=subprocess.PIPE, text=True)
        self.port = int(self.p.stdout.readline())
        atexit.register(self.stop)

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=30)

    def log(self):
        """Stops the server; its request log, one list of fields per request."""
        self.stop()
        with open(self.log_file) as f:
            return [line.split() for line in f if line.strip()]
