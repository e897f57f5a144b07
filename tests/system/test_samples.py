# SPDX-License-Identifier: BSD-2-Clause
"""The shipped configurations pass -t: etc/preforkd.conf (the installed
sample, with its docroot and log paths moved into the test's directory,
as they need not exist here) and etc/demo.conf (the quick start's)."""
import os
import pwd
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, Test, expect, run, write_file

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


def sample_ok(t):
    text = open(os.path.join(TOP, 'etc', 'preforkd.conf')).read()
    # As root, -t opens the root as the sample's user (www-data), who may
    # not enter the test's directory (root's, 0700): the root is made in
    # the system's temp dir, open to all.
    root = tempfile.mkdtemp(prefix='preforkd-sample.')
    try:
        os.chmod(root, 0o755)
        text = text.replace('"/var/www/html"', '"%s"' % root)
        text = re.sub(r'"/var/log/preforkd/', '"%s/' % t.dir, text)
        try:
            pwd.getpwnam('www-data')
        except KeyError:
            text = re.sub(r'^(user|group) .*$', '', text, flags=re.M)
        conf = os.path.join(t.dir, 'preforkd.conf')
        write_file(conf, text)
        rc, out, err = run([BINARY, '-t', '-f', conf])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    expect(rc == 0, 'sample rejected (%s): %s' % (rc, err.strip()))
    expect('configuration %s is ok' % conf in out, 'no ok line: %r' % out)


def sample_has_every_section(t):
    text = open(os.path.join(TOP, 'etc', 'preforkd.conf')).read()
    for needle in ('server ', 'http {', 'handler', 'listen', 'user',
                   'shutdown-timeout', 'access-log', 'echo'):
        expect(needle in text, 'the sample does not show %r' % needle)


def demo_ok(t):
    conf = os.path.join(TOP, 'etc', 'demo.conf')
    rc, out, err = run([BINARY, '-t', '-f', conf])
    expect(rc == 0, 'demo.conf rejected (%s): %s' % (rc, err.strip()))


def main():
    t = Test('test_samples')
    t.check('etc/preforkd.conf passes -t', sample_ok, t)
    t.check('etc/preforkd.conf shows the main options',
            sample_has_every_section, t)
    t.check('etc/demo.conf passes -t', demo_ok, t)
    t.finish()


if __name__ == '__main__':
    main()
