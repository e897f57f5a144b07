# SPDX-License-Identifier: BSD-2-Clause
"""The manual pages: mandoc finds nothing to say about them, and
preforkd(8) documents every flag of `preforkd -h` and every name of -s.

mandoc (the Debian package of that name) is required: without it the test
fails, saying so, rather than passing without having looked.
"""
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, Test, expect, run

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.normpath(os.path.join(HERE, '..', '..', 'doc'))
PAGES = ['preforkd.8', 'preforkd.conf.5']


def mandoc():
    path = shutil.which('mandoc')
    expect(path is not None,
           'mandoc not found in PATH: install it (Debian: apt-get install '
           'mandoc) to check the manual pages')
    return path


def page_text(name):
    path = os.path.join(DOC, name)
    expect(os.path.isfile(path), '%s is missing' % path)
    with open(path, encoding='utf-8') as f:
        return f.read()


def lint_clean(name):
    path = os.path.join(DOC, name)
    page_text(name)
    rc, out, err = run([mandoc(), '-T', 'lint', '-W', 'warning', path])
    said = (out + err).strip()
    expect(rc == 0 and not said,
           'mandoc -T lint -W warning %s: exit %d%s'
           % (name, rc, ('; ' + said) if said else ''))


def renders(name, title):
    path = os.path.join(DOC, name)
    page_text(name)
    rc, out, err = run([mandoc(), '-T', 'utf8', path])
    expect(rc == 0, 'mandoc -T utf8 %s: exit %d; %s' % (name, rc, err.strip()))
    out = re.sub('.\x08', '', out)     # bold and underline by overstrike
    expect(title in out and 'NAME' in out,
           'mandoc -T utf8 %s: no %s heading or NAME section in %r'
           % (name, title, out[:200]))


def help_flags():
    """The flags named by `preforkd -h`: its usage line and option lines."""
    rc, out, err = run([BINARY, '-h'])
    expect(rc == 0, 'preforkd -h exited %d; stderr: %s' % (rc, err.strip()))
    flags = set(re.findall(r'\[-([A-Za-z])\b', out))
    flags |= set(re.findall(r'^\s+-([A-Za-z])\b', out, re.M))
    expect(flags, 'no flag found in the output of preforkd -h: %r' % out)
    return flags


def page_flags(text):
    """The flags documented in preforkd.8, as `.It Fl X` items."""
    return set(re.findall(r'^\.It Fl ([A-Za-z])\b', text, re.M))


def flags_documented():
    flags = help_flags()
    documented = page_flags(page_text('preforkd.8'))
    missing = sorted(flags - documented)
    extra = sorted(documented - flags)
    expect(not missing, 'flags of preforkd -h without an ".It Fl X" item in '
           'preforkd.8: %s' % ', '.join('-' + f for f in missing))
    expect(not extra, 'flags documented in preforkd.8 that preforkd -h does '
           'not know: %s' % ', '.join('-' + f for f in extra))
    return 'flags: %s' % ' '.join('-' + f for f in sorted(flags))


def signal_names():
    """The -s names, as preforkd lists them when given an unknown one."""
    rc, out, err = run([BINARY, '-s', 'no-such-signal', '-f', os.devnull])
    m = re.search(r'use one of (.+)', err)
    expect(rc != 0 and m, 'preforkd -s no-such-signal: exit %d, no "use one '
           'of" list in stderr: %r' % (rc, err))
    names = [n.strip() for n in m.group(1).split(',') if n.strip()]
    expect(names, 'an empty list of -s names: %r' % err)
    return names


def s_list(text):
    """The `.It Cm` items of the list that follows `.It Fl s` in preforkd.8."""
    lines = text.split('\n')
    start = [i for i, l in enumerate(lines) if re.match(r'\.It Fl s\b', l)]
    expect(start, 'preforkd.8 has no ".It Fl s" item')
    depth, items = 0, []
    for line in lines[start[0] + 1:]:
        if line.startswith('.Bl'):
            depth += 1
        elif line.startswith('.El'):
            depth -= 1
            if depth <= 0:
                break
        elif depth == 0 and line.startswith('.It'):
            break           # the next option: the -s list ended (or is none)
        elif depth == 1:
            m = re.match(r'\.It Cm (\S+)', line)
            if m:
                items.append(m.group(1))
    return items


def signals_documented():
    names = signal_names()
    text = page_text('preforkd.8')
    items = s_list(text)
    missing = [n for n in names if n not in items]
    extra = [n for n in items if n not in names]
    expect(not missing, '-s names without an ".It Cm NAME" item under '
           '".It Fl s" in preforkd.8: %s' % ', '.join(missing))
    expect(not extra, 'names documented under -s in preforkd.8 that preforkd '
           '-s refuses: %s' % ', '.join(extra))
    for n in names:
        expect(re.search(r'\b%s\b' % re.escape(n), text),
               '-s %s does not appear in preforkd.8' % n)
    return '-s: %s' % ', '.join(names)


def main():
    t = Test('test_manpages')
    t.check('mandoc is installed', mandoc)
    for name in PAGES:
        t.check('mandoc -T lint -W warning %s is clean' % name, lint_clean,
                name)
    t.check('preforkd.8 renders', renders, 'preforkd.8', 'PREFORKD(8)')
    t.check('preforkd.conf.5 renders', renders, 'preforkd.conf.5',
            'PREFORKD.CONF(5)')
    t.check('every flag of preforkd -h is documented in preforkd.8',
            flags_documented)
    t.check('every -s name is documented in preforkd.8', signals_documented)
    t.finish()


if __name__ == '__main__':
    main()
