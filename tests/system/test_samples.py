# SPDX-License-Identifier: BSD-2-Clause
"""The shipped configurations pass -t: etc/preforkd.conf (the installed
sample, with its docroot and log paths moved into the test's directory,
as they need not exist here) and etc/demo.conf (the quick start's).  And
make install's treatment of the sample (build-aux/install-conf): its log
directory made, an administrator's preforkd.conf never overwritten."""
import os
import pwd
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, Test, expect, run, write_file

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


def check_sample(t, text, logs, name):
    """-t of the sample text, its docroot moved to a temp dir open to all
    (as root, -t opens it as the sample's user, www-data, who may not
    enter the test's directory) and its log directory to logs; (exit
    status, stdout, stderr, the file checked)."""
    root = tempfile.mkdtemp(prefix='preforkd-sample.')
    try:
        os.chmod(root, 0o755)
        text = text.replace('"/var/www/html"', '"%s"' % root)
        text = text.replace('"/var/log/preforkd/', '"%s/' % logs)
        try:
            pwd.getpwnam('www-data')
        except KeyError:
            text = re.sub(r'^(user|group) .*$', '', text, flags=re.M)
        conf = os.path.join(t.dir, name)
        write_file(conf, text)
        rc, out, err = run([BINARY, '-t', '-f', conf])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rc, out, err, conf


def sample_ok(t):
    text = open(os.path.join(TOP, 'etc', 'preforkd.conf')).read()
    rc, out, err, conf = check_sample(t, text, t.dir, 'preforkd.conf')
    expect(rc == 0, 'sample rejected (%s): %s' % (rc, err.strip()))
    expect('configuration %s is ok' % conf in out, 'no ok line: %r' % out)


def sample_has_every_section(t):
    text = open(os.path.join(TOP, 'etc', 'preforkd.conf')).read()
    for needle in ('server ', 'http {', 'handler', 'listen', 'user',
                   'shutdown-timeout', 'access-log', 'echo'):
        expect(needle in text, 'the sample does not show %r' % needle)


def install_conf(t, action, destdir, sample):
    env = dict(os.environ, DESTDIR=destdir)
    return run(['sh', os.path.join(TOP, 'build-aux', 'install-conf'), action,
                sample, '/etc', '/var/log/preforkd', '/run'], env=env)


def installed_sample(t):
    """A first install puts the sample and its log directory in place, and
    that sample (its docroot aside) passes -t as installed; a second
    keeps the administrator's edited copy; uninstall removes only what is
    unchanged."""
    dest = os.path.join(t.dir, 'dest')
    sample = os.path.join(TOP, 'etc', 'preforkd.conf')
    conf = dest + '/etc/preforkd.conf'
    rc, out, err = install_conf(t, 'install', dest, sample)
    expect(rc == 0, 'install: %s %s' % (out, err))
    expect(os.path.isdir(dest + '/var/log/preforkd'), 'no log directory')
    text = open(conf).read()
    expect(text == open(sample).read(), 'the sample changed on its way')
    expect(open(conf + '.default').read() == text, 'no .default copy')
    # Its log paths now exist under DESTDIR: only the docroot is moved.
    rc, out, err, _ = check_sample(t, text, dest + '/var/log/preforkd',
                                   'installed.conf')
    expect(rc == 0, 'the installed sample rejected: %s' % err.strip())

    write_file(conf, '# the administrator\'s own\n')
    newer = os.path.join(t.dir, 'newer.conf')
    write_file(newer, open(sample).read() + '# a newer sample\n')
    rc, out, err = install_conf(t, 'install', dest, newer)
    expect(rc == 0 and 'kept the existing' in out,
           'reinstall: %s %s %s' % (rc, out, err))
    expect(open(conf).read() == '# the administrator\'s own\n',
           'make install overwrote an existing preforkd.conf')
    expect(open(conf + '.default').read().endswith('# a newer sample\n'),
           'the new sample is not in preforkd.conf.default')
    rc, out, err = install_conf(t, 'uninstall', dest, newer)
    expect(rc == 0 and os.path.exists(conf)
           and not os.path.exists(conf + '.default'),
           'uninstall of an edited configuration: %s %s' % (out, err))
    os.unlink(conf)
    install_conf(t, 'install', dest, sample)
    rc, out, err = install_conf(t, 'uninstall', dest, sample)
    expect(rc == 0 and not os.path.exists(conf)
           and not os.path.exists(dest + '/var/log/preforkd'),
           'uninstall left the unchanged sample: %s'
           % sorted(os.listdir(dest + '/etc')))


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
    t.check('make install: the sample, its log directory, never over an '
            'existing preforkd.conf', installed_sample, t)
    t.finish()


if __name__ == '__main__':
    main()
