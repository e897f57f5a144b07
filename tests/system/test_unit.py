# SPDX-License-Identifier: BSD-2-Clause
"""The systemd unit etc/preforkd.service.

Static checks: every key is one systemd knows in its section, the values
parse, Type=notify with NotifyAccess=all (the master forks away from
ExecStart and names itself, and after an upgrade its successor, with
MAINPID=), every command's flags exist in `preforkd -h`.  Then the unit's
own commands drive a real daemon the way systemd would (paths moved to the
temp dir, a datagram socket at NOTIFY_SOCKET): ExecStartPre, ExecStart
and its READY=1 + MAINPID=, ExecReload (good and bad configs), and a stop by KillSignal to the main process only (KillMode=mixed)
that lets an in-flight connection finish, within TimeoutStopSec.  Last,
`systemd-analyze verify` when it exists and works here (it needs no running
systemd); where it does not, the check says so and the checks above stand."""
import os
import re
import shlex
import shutil
import signal
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, HERE, T, alive, connect, echo_once, expect,
                     line_of, read_file, roundtrip, run, wait_until,
                     skipped, write_file, NotifySocket, Test)

UNIT = os.path.normpath(os.path.join(HERE, '..', '..', 'etc',
                                     'preforkd.service'))
SOCKET = os.path.normpath(os.path.join(HERE, '..', '..', 'etc',
                                       'preforkd.socket'))
SAMPLE = os.path.normpath(os.path.join(HERE, '..', '..', 'etc',
                                       'preforkd.conf'))

# Keys this unit may use, per section (systemd.unit(5), systemd.service(5),
# systemd.exec(5), systemd.kill(5), systemd.resource-control(5)).  A key
# not listed fails the test: check it in those pages, then add it here.
KNOWN = {
    'Unit': {
        'Description', 'Documentation', 'After', 'Before', 'Wants',
        'Requires', 'Requisite', 'BindsTo', 'PartOf', 'Conflicts',
        'ConditionPathExists', 'ConditionFileNotEmpty', 'AssertPathExists',
        'StartLimitIntervalSec', 'StartLimitBurst', 'DefaultDependencies',
    },
    'Service': {
        'Type', 'NotifyAccess', 'PIDFile', 'ExecStartPre', 'ExecStart', 'ExecStartPost',
        'ExecReload', 'ExecStop', 'ExecStopPost', 'KillSignal', 'KillMode',
        'SendSIGKILL', 'FinalKillSignal', 'TimeoutStartSec',
        'TimeoutStopSec', 'TimeoutSec', 'Restart', 'RestartSec',
        'SuccessExitStatus', 'LimitNOFILE', 'LimitCORE', 'User', 'Group',
        'Environment', 'EnvironmentFile', 'WorkingDirectory', 'UMask',
        'ProtectSystem', 'ProtectHome', 'ReadWritePaths', 'ReadOnlyPaths',
        'InaccessiblePaths', 'PrivateTmp', 'PrivateDevices',
        'NoNewPrivileges', 'CapabilityBoundingSet', 'AmbientCapabilities',
        'RestrictAddressFamilies', 'RestrictNamespaces', 'LockPersonality',
        'ProtectKernelTunables', 'ProtectKernelModules',
        'ProtectControlGroups', 'ProtectClock', 'ProtectHostname',
        'RestrictRealtime', 'RestrictSUIDSGID', 'MemoryDenyWriteExecute',
        'SystemCallArchitectures', 'SystemCallFilter', 'LogsDirectory',
        'RuntimeDirectory', 'RuntimeDirectoryPreserve',
    },
    'Install': {'WantedBy', 'RequiredBy', 'Alias', 'Also'},
    # systemd.socket(5)
    'Socket': {'ListenStream', 'BindIPv6Only', 'Backlog', 'Service',
               'FileDescriptorName', 'SocketUser', 'SocketGroup',
               'SocketMode', 'ReusePort', 'FreeBind'},
}
CAPS = {
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER',
    'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
    'CAP_NET_BIND_SERVICE', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_CHROOT',
    'CAP_SYS_RESOURCE', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE',
}
# What the master needs: bind low ports, drop workers to a user, chown
# logs for them, read as root, signal its workers.
NEEDED_CAPS = {'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID',
               'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_KILL'}
SHUTDOWN_TIMEOUT_DEFAULT = 30    # preforkd.conf(5)


def parse_unit(text):
    """{section: [(key, value, line)]}; systemd syntax (comments, blank
    lines, backslash continuations)."""
    sections, current, pending, start = {}, None, '', 0
    for number, raw in enumerate(text.split('\n'), 1):
        line = raw.strip()
        if not pending:
            if not line or line[0] in '#;':
                continue
            start = number
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        line, pending = pending + line, ''
        m = re.fullmatch(r'\[([A-Za-z]+)\]', line)
        if m:
            current = m.group(1)
            expect(current not in sections, 'line %d: section [%s] twice'
                   % (number, current))
            sections[current] = []
            continue
        expect(current is not None, 'line %d: %r outside a section'
               % (number, line))
        expect('=' in line, 'line %d: %r is not KEY=VALUE' % (number, line))
        key, value = line.split('=', 1)
        sections[current].append((key.strip(), value.strip(), start))
    return sections


def values(unit, section, key):
    return [v for k, v, _ in unit.get(section, []) if k == key]


def value(unit, section, key):
    vs = values(unit, section, key)
    expect(len(vs) == 1, '[%s] %s= appears %d times' % (section, key,
                                                          len(vs)))
    return vs[0]


def command(v):
    """argv of an Exec*= value, its systemd prefixes (-@:+!) dropped."""
    return shlex.split(v.lstrip('-@:+!'))


def option_args(argv):
    """{flag: argument or None} of a preforkd command line."""
    out, i = {}, 1
    with_arg = set('fps')
    while i < len(argv):
        a = argv[i]
        expect(re.fullmatch(r'-[a-zA-Z]', a), 'unexpected argument %r in %s'
               % (a, ' '.join(argv)))
        if a[1] in with_arg:
            expect(i + 1 < len(argv), '%s needs an argument' % a)
            out[a[1]] = argv[i + 1]
            i += 2
        else:
            out[a[1]] = None
            i += 1
    return out


class Unit:
    def __init__(self, t):
        self.text = read_file(UNIT)
        expect(self.text is not None, 'cannot read %s' % UNIT)
        self.unit = parse_unit(self.text)
        self.srv = t.server('unit')

    def localized(self):
        """The unit with its paths moved into the temp dir."""
        text = self.text
        for old, new in (('/usr/sbin/preforkd', BINARY),
                         ('/etc/preforkd.conf', self.srv.conf),
                         ('/run/preforkd.pid', self.srv.pidfile)):
            expect(old in text, '%r is not in %s' % (old, UNIT))
            text = text.replace(old, new)
        return parse_unit(text)

    def run_exec(self, key):
        argv = command(value(self.localized(), 'Service', key))
        return run(argv, cwd=self.srv.dir)


def main():
    t = Test('test_unit')
    u = [None]

    def parses():
        u[0] = Unit(t)
        expect(set(u[0].unit) == {'Unit', 'Service', 'Install'},
               'sections %s' % sorted(u[0].unit))
    if not t.check('the unit parses: [Unit], [Service], [Install]', parses):
        t.finish()
    unit = u[0].unit
    srv = u[0].srv

    def known_keys():
        for section, items in unit.items():
            for k, v, line in items:
                expect(k in KNOWN[section], 'line %d: %s= is not a key of '
                       '[%s] this test knows' % (line, k, section))
        return '%d keys' % sum(len(i) for i in unit.values())

    def service_values():
        expect(value(unit, 'Service', 'Type') == 'notify',
               'Type=%s' % value(unit, 'Service', 'Type'))
        expect(value(unit, 'Service', 'NotifyAccess') == 'all',
               'NotifyAccess=%s: the forked master and, after an upgrade, '
               'its successor send' % value(unit, 'Service', 'NotifyAccess'))
        # systemd would read a PIDFile= when the main pid exits, even the
        # old master's after an upgrade handed MAINPID= on: none here.
        expect(not values(unit, 'Service', 'PIDFile'), 'PIDFile= with '
               'Type=notify')
        expect(value(unit, 'Service', 'KillMode') == 'mixed', 'KillMode')
        sig = value(unit, 'Service', 'KillSignal')
        expect(hasattr(signal, sig), 'KillSignal=%s is no signal' % sig)
        expect(sig == 'SIGQUIT', 'KillSignal=%s: the graceful stop is '
               'SIGQUIT' % sig)
        expect(not values(unit, 'Service', 'ExecStop'),
               'ExecStop= set: "preforkd -s quit" returns at once and '
               'systemd would then send SIGTERM, cutting the graceful stop')
        stop = int(value(unit, 'Service', 'TimeoutStopSec'))
        expect(stop > SHUTDOWN_TIMEOUT_DEFAULT, 'TimeoutStopSec=%d is not '
               'above the default shutdown-timeout %d'
               % (stop, SHUTDOWN_TIMEOUT_DEFAULT))
        expect(value(unit, 'Service', 'Restart') in
               ('no', 'on-success', 'on-failure', 'on-abnormal',
                'on-watchdog', 'on-abort', 'always'), 'Restart=')
        expect(int(value(unit, 'Service', 'LimitNOFILE')) >= 1024,
               'LimitNOFILE')
        expect(value(unit, 'Service', 'ProtectSystem') == 'full',
               'ProtectSystem=%s: strict would forbid the logs and pidfile'
               % value(unit, 'Service', 'ProtectSystem'))
        expect(value(unit, 'Service', 'ProtectHome') == 'read-only',
               'ProtectHome=%s: a docroot under /home must stay readable'
               % value(unit, 'Service', 'ProtectHome'))
        for k in ('PrivateTmp', 'NoNewPrivileges'):
            expect(value(unit, 'Service', k) in ('yes', 'true', '1'), k)
        caps = set(value(unit, 'Service', 'CapabilityBoundingSet').split())
        expect(caps <= CAPS, 'unknown capabilities %s' % sorted(caps - CAPS))
        expect(NEEDED_CAPS <= caps, 'CapabilityBoundingSet lacks %s'
               % sorted(NEEDED_CAPS - caps))
        fams = value(unit, 'Service', 'RestrictAddressFamilies').split()
        for f in fams:
            expect(hasattr(socket, f), 'unknown address family %s' % f)
        # AF_NETLINK: the accept queue of a unix listener (sock_diag).
        expect({'AF_INET', 'AF_INET6', 'AF_UNIX', 'AF_NETLINK'} <= set(fams),
               'RestrictAddressFamilies=%s' % ' '.join(fams))
        expect(value(unit, 'Install', 'WantedBy') == 'multi-user.target',
               'WantedBy')

    def commands():
        rc, usage, err = run([BINARY, '-h'])
        expect(rc == 0, 'preforkd -h exited %s' % rc)
        pidfile = command(value(unit, 'Service', 'ExecStart'))
        pidfile = option_args(pidfile).get('p')
        expect(pidfile and os.path.isabs(pidfile), 'ExecStart -p %s is not '
               'an absolute pidfile' % pidfile)
        conf = None
        seen = {}
        for key in ('ExecStartPre', 'ExecStart', 'ExecReload'):
            argv = command(value(unit, 'Service', key))
            expect(argv[0] == '/usr/sbin/preforkd', '%s runs %s' % (key,
                                                                  argv[0]))
            opts = option_args(argv)
            for flag in opts:
                expect(re.search(r'^\s+-%s\b' % flag, usage, re.M),
                       '%s uses -%s, not in preforkd -h' % (key, flag))
            expect('f' in opts, '%s has no -f' % key)
            conf = conf or opts['f']
            expect(opts['f'] == conf, '%s reads %s, not %s'
                   % (key, opts['f'], conf))
            seen[key] = opts
        expect('t' in seen['ExecStartPre'], 'ExecStartPre is not -t')
        # -t judges the pidfile the start will use: ExecStart's.
        expect(seen['ExecStartPre'].get('p') == pidfile, 'ExecStartPre -p '
               '%s, not ExecStart\'s %s' % (seen['ExecStartPre'].get('p'),
                                            pidfile))
        # Not -n: WINCH, used by the binary upgrade, needs a daemon.
        expect('n' not in seen['ExecStart'], 'ExecStart with -n')
        expect(seen['ExecReload'].get('s') == 'reload', 'ExecReload -s %s'
               % seen['ExecReload'].get('s'))
        expect(re.search(r'-s SIGNAL.*\breload\b', usage),
               'preforkd -h lists no reload signal')
        expect(seen['ExecReload'].get('p') == pidfile, 'ExecReload -p %s'
               % seen['ExecReload'].get('p'))

    t.check('every key is a known [Unit]/[Service]/[Install] key',
            known_keys)
    t.check('values: notify, NotifyAccess=all, SIGQUIT + mixed, no ExecStop, '
            'TimeoutStopSec > shutdown-timeout, hardening', service_values)
    t.check('Exec* run /usr/sbin/preforkd with flags of preforkd -h, one '
            'config, one -p', commands)

    # -- the unit's commands, as systemd runs them
    st = {}

    def start_pre_bad():
        text = srv.conf_text(servers=[dict(workers=0)])
        srv.write_conf(text)
        try:
            rc, out, err = u[0].run_exec('ExecStartPre')
        finally:
            srv.write_conf(srv.conf_text())
        where = '%s:%d:' % (srv.conf, line_of(text, 'workers = 0'))
        expect(rc != 0, 'ExecStartPre passed a broken config')
        expect(where in err, 'ExecStartPre did not say %s: %r'
               % (where, err.strip()))

    def start():
        rc, out, err = u[0].run_exec('ExecStartPre')
        expect(rc == 0, 'ExecStartPre exited %s: %s' % (rc, err.strip()))
        srv.start_mark = srv.mark()
        address = os.path.join(t.dir, 'notify')
        with NotifySocket(address) as manager:
            rc, out, err = u[0].run_exec('ExecStart')
            expect(rc == 0, 'ExecStart exited %s: %s' % (rc, err.strip()))
            # What systemd reads for Type=notify: READY=1, and MAINPID=.
            ready = manager.messages[manager.wait('READY', '1')]
        expect(ready.get('MAINPID', '').isdigit(), 'READY=1 without '
               'MAINPID=: %s' % ready)
        srv.master = int(ready['MAINPID'])
        text = read_file(srv.pidfile)
        expect(text and text.strip() == str(srv.master), 'MAINPID=%d, the '
               'pidfile says %r' % (srv.master, text))
        srv.seen.add(srv.master)
        expect(alive(srv.master), 'main pid %d is not running' % srv.master)
        srv.parse_addrs()
        srv.wait_workers(2)
        echo_once(srv.addr(), b'systemd started me')

    def reload_good():
        mark = srv.mark()
        old = srv.workers()
        srv.write_conf(servers=[dict(workers=3)])
        rc, out, err = u[0].run_exec('ExecReload')
        expect(rc == 0, 'ExecReload exited %s: %s' % (rc, err.strip()))
        expect(srv.find(r'reload: generation 2 serving', mark),
               'ExecReload returned before generation 2 served')
        srv.wait_workers(3, gone=old)
        echo_once(srv.addr(), b'generation 2')

    def reload_bad():
        pid, before = srv.master, srv.workers()
        text = srv.conf_text(servers=[dict(workers=0)])
        srv.write_conf(text)
        rc, out, err = u[0].run_exec('ExecReload')
        where = '%s:%d:' % (srv.conf, line_of(text, 'workers = 0'))
        expect(rc != 0, 'ExecReload of a broken config exited 0')
        expect(where in err, 'ExecReload did not say %s: %r'
               % (where, err.strip()))
        expect(srv.master == pid and alive(pid), 'main pid changed')
        expect(srv.workers() == before, 'workers changed')
        echo_once(srv.addr(), b'still generation 2')

    def graceful_stop():
        sig = getattr(signal, value(unit, 'Service', 'KillSignal'))
        limit = int(value(unit, 'Service', 'TimeoutStopSec'))
        workers = srv.workers()
        with connect(srv.addr()) as c:
            expect(roundtrip(c, b'before') == b'before', 'no echo')
            os.kill(srv.master, sig)      # KillMode=mixed: the main pid
            got = roundtrip(c, b'in flight')
            expect(got == b'in flight', 'the in-flight connection got %r '
                   'after %s' % (got, signal.Signals(sig).name))
        gone = wait_until(lambda: not alive(srv.master), min(limit, T(15)))
        expect(gone, 'main pid still runs %gs after %s'
               % (min(limit, T(15)), signal.Signals(sig).name))
        expect(wait_until(lambda: not any(alive(p) for p in workers), T(5)),
               'workers left: %s' % [p for p in workers if alive(p)])
        expect(not os.path.exists(srv.pidfile), 'pidfile left behind')

    t.check('ExecStartPre refuses a broken config with FILE:LINE',
            start_pre_bad)
    if t.check('ExecStartPre, ExecStart: READY=1, MAINPID= is the serving '
               'master, as in the pidfile',
               start):
        t.check('ExecReload: 0 once generation 2 serves', reload_good)
        t.check('ExecReload of a broken config: non-zero with FILE:LINE, '
                'nothing changed', reload_bad)
        t.check('KillSignal to the main pid: in-flight connection finishes, '
                'all gone within TimeoutStopSec', graceful_stop)

    # -- the socket unit
    sock = {}

    def socket_unit():
        text = read_file(SOCKET)
        expect(text is not None, 'cannot read %s' % SOCKET)
        sock['text'] = text
        unit_ = parse_unit(text)
        expect(set(unit_) == {'Unit', 'Socket', 'Install'}, 'sections %s'
               % sorted(unit_))
        for section, items in unit_.items():
            for k, v, line in items:
                expect(k in KNOWN[section], 'line %d: %s= is not a key of '
                       '[%s] this test knows' % (line, k, section))
        expect(value(unit_, 'Install', 'WantedBy') == 'sockets.target',
               'WantedBy')
        # It must hold what the sample configuration listens on, in the
        # form preforkd matches: "*:80" is a dual-stack [::]:80.
        listens = re.findall(r'^\s*listen\s*=\s*"([^"]+)"',
                             read_file(SAMPLE) or '', re.M)
        expect(listens == ['*:80'], 'the sample config listens on %s'
               % listens)
        expect(values(unit_, 'Socket', 'ListenStream') == ['80'],
               'ListenStream=%s' % values(unit_, 'Socket', 'ListenStream'))
        expect(value(unit_, 'Socket', 'BindIPv6Only') == 'both',
               'BindIPv6Only=%s: "*:80" is dual-stack'
               % value(unit_, 'Socket', 'BindIPv6Only'))
    t.check('preforkd.socket: known keys, ListenStream= is the sample '
            'config\'s "*:80" (dual-stack)', socket_unit)

    # -- systemd-analyze verify, where it works
    def analyze():
        tool = shutil.which('systemd-analyze')
        if tool is None:
            return skipped('systemd-analyze not installed (Debian: systemd): static checks only')
        d = os.path.join(t.dir, 'units')
        os.makedirs(d)
        probe = os.path.join(d, 'preforkd-probe.service')
        write_file(probe, '[Unit]\nDescription=probe\n[Service]\n'
                   'Type=oneshot\nExecStart=%s -V\n' % BINARY)
        rc, out, err = run([tool, 'verify', '--man=no', probe])
        if rc != 0:
            return skipped('systemd-analyze verify fails here even on a '
                           'trivial unit (%s): static checks only'
                           % (out + err).strip().replace('\n', ' | ')[:200])
        os.unlink(probe)
        copy = os.path.join(d, 'preforkd.service')
        write_file(copy, u[0].text.replace('/usr/sbin/preforkd', BINARY))
        units = [copy]
        if 'text' in sock:
            units.append(os.path.join(d, 'preforkd.socket'))
            write_file(units[-1], sock['text'])
        rc, out, err = run([tool, 'verify', '--man=no'] + units)
        said = [l for l in (out + err).split('\n')
                if 'preforkd.s' in l]
        expect(rc == 0 and not said, 'systemd-analyze verify: status %s: %s'
               % (rc, ' | '.join(said or [(out + err).strip()])))
        return 'systemd-analyze verify: %s clean' % ', '.join(
            os.path.basename(u) for u in units)
    t.check('systemd-analyze verify of the service and the socket '
            '(binary path moved to the build)',
            analyze)
    t.finish()


if __name__ == '__main__':
    main()
