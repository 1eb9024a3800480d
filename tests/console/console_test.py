#!/usr/bin/env python3
"""The web console in a real browser (Debian's Chromium, headless, through chromedriver).

On the demo's day of returns (`rmaflow run` of examples/returns-day.json in virtual time), with
finance having released the credit hold that suspended RMA-1006, against the real
`rmaflow serve` on a loopback port:

- an operator signs in, finds RMA-1006 in the stuck queue, opens it, sees the failing step
  marked on the graph, retries it with a reason (from the keyboard), sees it complete, and
  finds the action in the audit trail; retries what a filtered list matches after a preview;
  a refused action shows the server's sentence;
- an RMA whose input and adapter error hold `<img src=x onerror=alert(1)>` renders as text and
  runs nothing (no element made, no alert, no Content-Security-Policy violation anywhere); the
  instance page draws branches and child workflows when an instance view carries them;
- a viewer gets no repair buttons, and an action forced through the API with the viewer's token
  is refused;
- screenshots of the overview, the stuck queue and the instance page at 1280x800 (and the
  instance page on a phone-sized window) are written to OUT/screenshots.

One Chromium, one database. Every wait is on a page condition with a deadline.
  console_test.py --binary build/rmaflow --source . --out build/console
"""
import argparse
import json
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

XSS = '<img src=x onerror=alert(1)>'
WAIT = 30  # seconds any one page condition may take

# Installed before any page script runs: records CSP violations and any alert() call.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));
window.__alerts = 0;
window.alert = () => { window.__alerts += 1; };
"""


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise Failure(f"{' '.join(map(str, cmd))} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


class Server:
    """`rmaflow serve` on a free loopback port; its first line names the port."""

    def __init__(self, cmd, log_path):
        self.log = open(log_path, 'w')
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.url = None
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                if line.startswith('rmaflow: serving http://') and not ready.is_set():
                    self.url = line.split()[2]
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(WAIT) or not self.url:
            self.stop()
            raise Failure(f'rmaflow serve did not start; see {log_path}')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def api(server, token, method, path, body=None):
    request = urllib.request.Request(server.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header('Authorization', f'Bearer {token}')
    if body is not None:
        request.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b'null')


def prepare(args, work):
    """The demo's database after its day of returns, with the credit hold released."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ('adapters.yaml', 'erp-data.yaml'):
        shutil.copy(args.source / 'examples' / 'sim' / name, work / name)
    run([args.binary, 'run', '--db', work / 'returns.db', '--workflows', args.source / 'workflows',
         '--adapters', work / 'adapters.yaml', '--clock', 'virtual', '--start', '2025-06-02T08:00:00Z',
         args.source / 'examples' / 'returns-day.json'])
    # A clerk's change in the ERP, which rmaflow does not own (as examples/demo.sh does).
    with sqlite3.connect(work / 'state' / 'erp.db') as erp:
        changed = erp.execute("UPDATE documents SET body = json_set(body, '$.credit_hold', json('false')) "
                              "WHERE type = 'customer' AND id = 'C-107'").rowcount
    check(changed == 1, 'the ERP has no customer C-107 to release')
    tokens = {}
    for name, role in (('ops', 'operator'), ('auditor', 'viewer'), ('platform', 'submitter'), ('root', 'admin')):
        out = run([args.binary, 'token', 'add', '--auth', work / 'tokens.yaml', '--name', name, '--role', role])
        tokens[role] = out.splitlines()[0].strip()
    return tokens


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for flag in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--disable-dev-shm-usage', f'--user-data-dir={profile}', '--window-size=1280,800'):
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(shutil.which('chromedriver') or '/usr/bin/chromedriver'),
                              options=options)
    driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': WATCH})
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                           {'width': 1280, 'height': 800, 'deviceScaleFactor': 1, 'mobile': False})
    return driver


class Console:
    def __init__(self, driver, url, shots):
        self.driver = driver
        self.url = url
        self.shots = shots

    def wait(self, condition, what):
        # The page re-renders while it loads: an element found a moment ago may be gone when it
        # is read, which only means "not yet".
        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.05,
                                 ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition(d))
        except TimeoutException:
            raise Failure(f'timed out waiting for {what}; the page says: {self.text()[:2000]}') from None

    def text(self):
        try:
            return self.driver.find_element(By.ID, 'main').text
        except Exception:  # the page may be between states
            return ''

    def find(self, css, root=None):
        return (root or self.driver).find_elements(By.CSS_SELECTOR, css)

    def heading(self, text):
        self.wait(lambda d: any(h.text.startswith(text) for h in self.find('main h1')), f'the heading "{text}"')

    def sign_in(self, token):
        self.driver.get(self.url + '/')
        field = self.wait(lambda d: (self.find('#token') or [None])[0], 'the sign-in form')
        field.send_keys(token, Keys.ENTER)
        self.heading('Overview')

    def sign_out(self):
        self.driver.find_element(By.ID, 'sign-out').click()
        self.wait(lambda d: self.find('#token'), 'the sign-in form after signing out')

    def nav(self, page):
        self.driver.find_element(By.CSS_SELECTOR, f'#nav a[data-page="{page}"]').click()

    def viewport(self, width, height):
        """The page's viewport exactly this size (the window's frame is not counted)."""
        self.driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                                    {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})

    def screenshot(self, name, size=(1280, 800)):
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f'{name}.png'
        check(self.driver.save_screenshot(str(path)), f'no screenshot {path}')
        header = path.read_bytes()[:24]  # PNG signature, then IHDR: width and height
        shot = (struct.unpack('>I', header[16:20])[0], struct.unpack('>I', header[20:24])[0])
        check(shot == size, f'{path} is {shot[0]}x{shot[1]}, not {size[0]}x{size[1]}')
        print(f'screenshot: {path}')

    def row_with(self, text):
        def found(d):
            for row in self.find('main tbody tr'):
                if text in row.text:
                    return row
            return None
        return self.wait(found, f'a row with {text}')

    def safe(self):
        """Nothing the instance data held ran or was made, and the page broke no policy."""
        violations = self.driver.execute_script('return window.__violations')
        check(violations == [], f'Content-Security-Policy violations: {violations}')
        check(self.driver.execute_script('return window.__alerts') == 0, 'alert() was called')
        made = self.driver.execute_script(
            "return document.querySelectorAll('main img, [onerror], main b, main script').length")
        check(made == 0, f'{made} element(s) came out of instance data')


def operator_repairs_the_credit_hold(console, server, tokens):
    console.sign_in(tokens['operator'])
    console.wait(lambda d: 'in the stuck queue' in console.text() and 'By workflow' in console.text(),
                 'the overview filled in')
    # The overview, reloaded with the token in the tab: how long until its data is on the page.
    console.driver.refresh()
    shown = console.wait(lambda d: d.execute_script(
        "const m = performance.getEntriesByName('rmaflow:overview'); return m.length ? m[0].startTime : null"),
        'the overview after a reload')
    print(f'measured: the overview had its data on screen {shown:.0f} ms after navigation (demo database)')
    console.screenshot('overview')

    console.nav('stuck')
    console.heading('Stuck queue')
    row = console.row_with('RMA-1006')
    check('CustomerOnHold' in row.text, f'RMA-1006 is stuck for another reason: {row.text}')
    # The workflow routes a credit hold to finance (its `incidents:`), with four hours to act.
    check('finance' in row.text, f'RMA-1006 is not shown as finance\'s: {row.text}')
    console.row_with('RMA-1023')
    console.screenshot('stuck')
    # Finance's queue, as the overview's by-team table links to it; and a team with nothing.
    def team_queue(team):
        return d_value('#f-team') == team

    def d_value(css):
        found = console.find(css)
        return found[0].get_attribute('value') if found else None

    console.driver.get(f"{server.url}/#/stuck?team=finance")
    console.wait(lambda d: team_queue('finance') and 'RMA-1006' in console.text(), 'the queue of finance')
    console.driver.get(f"{server.url}/#/stuck?team=nobody")
    console.wait(lambda d: team_queue('nobody') and 'Nothing is stuck.' in console.text(),
                 'an empty queue for a team without incidents')
    console.nav('stuck')
    console.heading('Stuck queue')
    row = console.row_with('RMA-1006')

    row.find_element(By.LINK_TEXT, 'RMA-1006').click()
    console.heading('RMA-1006')
    failing = console.wait(lambda d: console.find('.graph g.step.failing'), 'the failing step on the graph')
    check(len(failing) == 1, f'{len(failing)} failing steps are marked')
    step = failing[0].find_element(By.TAG_NAME, 'title').get_attribute('textContent')
    incident = console.driver.find_element(By.CSS_SELECTOR, '.incident').text
    check(f'Step\n{step}' in incident and 'CustomerOnHold' in incident,
          f'the graph marks {step}, the incident says: {incident}')
    check('current' in failing[0].get_attribute('class'), 'the failing step is not where it stands')
    check(console.find('.graph g.step.visited'), 'no visited step is marked')
    console.screenshot('instance')

    # Retry from the keyboard: Tab to the button, Enter, type the reason, Tab to submit, Enter.
    console.driver.find_element(By.TAG_NAME, 'h1').click()
    for _ in range(80):
        if console.driver.execute_script('return document.activeElement.dataset.action') == 'retry':
            break
        ActionChains(console.driver).send_keys(Keys.TAB).perform()
    check(console.driver.switch_to.active_element.get_attribute('data-action') == 'retry',
          'the retry button cannot be reached with Tab')
    ActionChains(console.driver).send_keys(Keys.ENTER).perform()
    reason = console.wait(lambda d: (console.find('dialog[open] textarea.reason') or [None])[0], 'the retry dialog')
    check(console.driver.switch_to.active_element == reason, 'the dialog does not start at its reason')
    ActionChains(console.driver).send_keys('credit hold released by finance <b>ok</b>', Keys.TAB, Keys.ENTER).perform()
    result = console.wait(lambda d: (console.find('dialog[open] .result') or [None])[0], "the retry's result")
    check('The instance is now' in result.text, f'the retry answered: {result.text}')
    check(console.driver.execute_script('return document.activeElement.textContent') == 'Close',
          'the focus is not on the Close button after the retry')
    ActionChains(console.driver).send_keys(Keys.ENTER).perform()
    console.wait(lambda d: not console.find('dialog[open]'), 'the dialog to close')
    console.wait(lambda d: console.find('main h1 .badge.completed'), 'RMA-1006 to complete on the page')
    timeline = console.driver.find_element(By.CSS_SELECTOR, '.timeline').text
    check('ops: retry' in timeline and 'Ended completed' in timeline, f'the timeline shows: {timeline[:600]}')
    console.wait(lambda d: not console.find('.graph g.step.failing'), 'the graph without a failing step')

    console.nav('audit')
    console.heading('Audit trail')
    entry = console.row_with('RMA-1006')
    for expected in ('ops', 'retry', 'credit hold released by finance <b>ok</b>', 'suspended at', 'running at'):
        check(expected in entry.text, f'the audit entry lacks "{expected}": {entry.text}')

    # Bulk retry from a filtered list, as a job: the server's dry run lists what it would touch (RMA-1006 is done
    # now; which other labels the carrier's injected failures stopped depends on the day's
    # timing), the report what it did. RMA-1023's carrier still refuses its address.
    suspended = sorted(i['business_key'] for i in
                       api(server, tokens['operator'], 'GET', '/v1/instances?status=suspended')[1]['items'])
    check('RMA-1023' in suspended and 'RMA-1006' not in suspended, f'suspended now: {suspended}')
    console.driver.get(f'{server.url}/#/instances?status=suspended')
    console.heading('Instances')
    console.row_with('RMA-1023')
    console.driver.find_element(By.CSS_SELECTOR, 'button[data-action="bulk-retry"]').click()
    rows = console.wait(lambda d: console.find('dialog[open] .preview tbody tr'), 'the bulk retry preview')
    listed = sorted(r.text.split()[0] for r in rows)
    check(listed == suspended, f'the preview lists {listed}, not what is suspended: {suspended}')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] textarea.reason').send_keys('carrier fixed its address check')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="submit"]').click()
    report = console.wait(lambda d: (console.find('dialog[open] .result') or [None])[0], 'the bulk retry report')
    n = len(suspended)
    check(f'Job finished: retried {n}; refused 0' in report.text, f'the bulk retry reported: {report.text}')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="button"]').click()
    console.wait(lambda d: not console.find('dialog[open]'), 'the bulk retry dialog to close')

    # Bulk pause of a workflow's unfinished instances (its ERP's maintenance window; RMA-1023 is
    # among them, retrying or suspended again), then bulk resume of the paused.
    def bulk(kind, reason):
        console.driver.find_element(By.CSS_SELECTOR, f'button[data-action="bulk-{kind}"]').click()
        console.wait(lambda d: console.find('dialog[open] .preview tbody tr'), f'the bulk {kind} preview')
        console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] textarea.reason').send_keys(reason)
        console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="submit"]').click()
        done = console.wait(lambda d: (console.find('dialog[open] .result') or [None])[0], f'the bulk {kind} report')
        text = done.text
        console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="button"]').click()
        console.wait(lambda d: not console.find('dialog[open]'), f'the bulk {kind} dialog to close')
        return text

    def paused_count():
        return len(api(server, tokens['operator'], 'GET', '/v1/instances?paused=true&limit=1000')[1]['items'])

    # (The served day's simulated systems still answer meanwhile: an instance that finished
    # between the preview and its turn is reported refused, which the counts allow for.)
    unfinished = api(server, tokens['operator'], 'GET', '/v1/instances?workflow=standard-return&'
                     'status=running,waiting,suspended,compensating&limit=100')[1]['items']
    check(unfinished, 'nothing of standard-return is unfinished to be paused')
    console.driver.get(f'{server.url}/#/instances?workflow=standard-return')
    console.heading('Instances')
    report = bulk('pause', 'ERP maintenance window')
    counts = re.search(r'Job finished: paused (\d+); refused (\d+)', report)
    check(counts and int(counts[1]) > 0, f'the bulk pause reported: {report}')
    n = int(counts[1])
    check(paused_count() == n, f'{paused_count()} paused, not {n}')
    report = bulk('resume', 'ERP maintenance over')
    check(f'Job finished: resumed {n}; refused 0' in report, f'the bulk resume reported: {report}')
    check(paused_count() == 0, f'{paused_count()} still paused')

    # A refusal shows the server's sentence: a patch may not touch the read-only input.
    stuck = api(server, tokens['operator'], 'GET', '/v1/instances?business_key=RMA-1023')[1]['items'][0]
    console.driver.get(f"{server.url}/#/instance/{stuck['id']}")
    console.heading('RMA-1023')
    console.wait(lambda d: console.find('button[data-action="patch"]'), 'the patch button')[0].click()
    area = console.wait(lambda d: (console.find('dialog[open] textarea[name="patch"]') or [None])[0], 'the patch dialog')
    area.send_keys('{"input": {"rma_id": "X"}}')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] textarea.reason').send_keys('fix the RMA number')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="submit"]').click()
    problem = console.wait(lambda d: (console.find('dialog[open] .problem') or [None])[0], 'the refusal')
    check('Refused (422)' in problem.text and 'read-only' in problem.text, f'the refusal reads: {problem.text}')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[value="close"]').click()
    console.safe()

    # Pause, then resume: the facts say since when it is paused, and only the fitting one is offered.
    def act_in_dialog(kind, reason):
        button = console.wait(lambda d: [b for b in console.find(f'button[data-action="{kind}"]')
                                         if b.is_enabled()], f'the {kind} button')[0]
        button.click()
        console.wait(lambda d: console.find('dialog[open] textarea.reason'), f'the {kind} dialog')
        console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] textarea.reason').send_keys(reason)
        console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="submit"]').click()
        result = console.wait(lambda d: (console.find('dialog[open] .result') or [None])[0], f'the {kind} result')
        check(': done.' in result.text, f'the {kind} answered: {result.text}')
        console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[value="close"]').click()
        console.wait(lambda d: not console.find('dialog[open]'), f'the {kind} dialog to close')

    act_in_dialog('pause', 'the ERP is in maintenance')
    facts = lambda: [dt.text for dt in console.find('dl.facts dt')]
    console.wait(lambda d: 'Paused' in facts() and
                 not console.find('button[data-action="pause"]')[0].is_enabled(), 'the pause to show')
    check(console.find('button[data-action="resume"]')[0].is_enabled(), 'resume is not offered while paused')
    paused = api(server, tokens['operator'], 'GET', f"/v1/instances/{stuck['id']}")[1]
    check(paused.get('paused_at'), f'the instance is not paused: {paused}')
    act_in_dialog('resume', 'the ERP is back')
    console.wait(lambda d: 'Paused' not in facts(), 'the pause to end')
    resumed = api(server, tokens['operator'], 'GET', f"/v1/instances/{stuck['id']}")[1]
    check(resumed.get('paused_at') is None, f'the instance is still paused: {resumed}')
    console.safe()

    # A phone-sized window: the instance page fits its width.
    console.viewport(390, 844)
    console.wait(lambda d: d.execute_script('return window.innerWidth === 390 && '
                                            'document.documentElement.scrollWidth <= window.innerWidth'),
                 'the instance page to fit a narrow window')
    console.screenshot('instance-narrow', (390, 844))
    console.viewport(1280, 800)
    return stuck['id']


def operator_redrives_an_expired_return(console, server, tokens):
    """RMA-1004 expired waiting for its parcel and was compensated; the parcel turned up."""
    expired = api(server, tokens['operator'], 'GET', '/v1/instances?business_key=RMA-1004')[1]['items'][0]
    check(expired['status'] == 'expired', f"RMA-1004 is {expired['status']}, not expired")
    console.driver.get(f"{server.url}/#/instance/{expired['id']}")
    console.heading('RMA-1004')
    check(not console.find('button[data-action="retry"]'), 'a finished instance is offered a retry')
    console.wait(lambda d: console.find('button[data-action="redrive"]'), 'the redrive button')[0].click()
    console.wait(lambda d: console.find('dialog[open] select[name="step"]'), 'the redrive dialog')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] textarea[name="patch"]').send_keys('{"parcel_found": true}')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] textarea.reason').send_keys('the parcel turned up at the depot')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[type="submit"]').click()
    result = console.wait(lambda d: (console.find('dialog[open] .result, dialog[open] .problem') or [None])[0],
                          'the redrive result')
    check('The instance is now' in result.text, f'the redrive answered: {result.text}')
    console.driver.find_element(By.CSS_SELECTOR, 'dialog[open] button[value="close"]').click()
    console.wait(lambda d: not console.find('dialog[open]'), 'the redrive dialog to close')
    history = api(server, tokens['operator'], 'GET', f"/v1/instances/{expired['id']}/history")[1]['events']
    redrives = [e for e in history if e['type'] == 'operator_action' and e['data']['action'] == 'redrive']
    check(len(redrives) == 1, f'{len(redrives)} redrives recorded')
    data = redrives[0]['data']
    # Its expiry undid the authorization and the label: it reopens at the first step undone.
    check(data['args']['step'] == 'authorize' and data['before']['status'] == 'expired'
          and data['actor'] == 'ops', f'the redrive recorded: {data}')
    view = api(server, tokens['operator'], 'GET', f"/v1/instances/{expired['id']}")[1]
    check(view['context'].get('parcel_found') is True, 'the patch was not applied with the redrive')
    console.wait(lambda d: 'ops: redrive' in console.driver.find_element(By.CSS_SELECTOR, '.timeline').text,
                 'the redrive on the timeline')
    console.safe()


SEARCHED = """workflow: searched
version: 1
business_key: ${ .input.rma_id }
attributes:
  customer_id: ${ .input.customer_id }
  value: ${ .input.value }
start: done
steps:
  done: { end: completed }
"""


def operator_filters_by_search_attributes(console, server, tokens):
    status, deployed = api(server, tokens['admin'], 'POST', '/v1/workflows', {'source': SEARCHED, 'file': 'searched.yaml'})
    check(status in (200, 201), f'the searched workflow was not deployed: {status} {deployed}')
    for key, customer, value in (('RMA-S1', 'C-1', 50), ('RMA-S2', 'C-2', 250), ('RMA-S3', 'C-1', 700)):
        status, started = api(server, tokens['submitter'], 'POST', '/v1/instances', {
            'workflow': 'searched', 'input': {'rma_id': key, 'customer_id': customer, 'value': value}})
        check(status == 201, f'{key} was not started: {status} {started}')
    console.driver.get(f'{server.url}/#/instances?workflow=searched')
    console.heading('Instances')
    field = console.wait(lambda d: console.find('#f-attrs'), 'the attributes filter')[0]
    field.send_keys('customer_id=C-1 value>=100')
    console.driver.find_element(By.CSS_SELECTOR, 'form.filters button[type="submit"]').click()

    def keys():
        return sorted(r.text.split()[0] for r in console.find('main table tbody tr'))
    console.wait(lambda d: keys() == ['RMA-S3'], 'the list filtered to RMA-S3')
    console.row_with('RMA-S3').find_element(By.LINK_TEXT, 'RMA-S3').click()
    console.heading('RMA-S3')
    facts = console.wait(lambda d: [dd.text for dd in console.find('dl.facts dd') if 'customer_id=' in dd.text],
                         'the attributes among the facts')
    check('customer_id=C-1' in facts[0] and 'value=700' in facts[0], f'the attributes read: {facts}')
    console.safe()


def hostile_input_renders_as_text(console, server, tokens):
    status, started = api(server, tokens['submitter'], 'POST', '/v1/instances', {
        'workflow': 'standard-return',
        'input': {'rma_id': 'RMA-XSS-1', 'channel': 'web', 'customer_id': 'C-101', 'invoice_id': XSS,
                  'lines': [{'sku': 'KB-101', 'qty': 1, 'unit_price': 49.9, 'currency': 'USD',
                             'reason_code': 'defective'}],
                  'resolution': 'refund', 'notes': XSS, 'contact': {'name': XSS}}})
    check(status == 201, f'the hostile RMA was not started: {status} {started}')
    console.driver.get(f"{server.url}/#/instance/{started['id']}")
    console.heading('RMA-XSS-1')
    # The ERP refuses the unknown invoice; its error, quoting the input, lands in the timeline.
    console.wait(lambda d: 'Ended rejected' in console.text(), 'the hostile RMA to be rejected')
    console.wait(lambda d: f'invoice {XSS} is not in the ERP' in console.text(), 'the adapter error, as text')
    shown = console.driver.execute_script(
        "return [...document.querySelectorAll('.json .string')].filter(e => e.textContent.includes(arguments[0])).length", XSS)
    check(shown >= 3, f'the input holds the string 3 times; the context view shows it {shown} times')
    branches_and_children_render(console)
    # The list, filtered to its key (the day has more instances than a page shows).
    console.driver.get(f"{server.url}/#/instances?business_key=RMA-XSS-1")
    console.row_with('RMA-XSS-1')
    console.safe()


# What instance views will carry once instances fan out (foreach/parallel branches, child
# workflows via `call`), added in the page to the server's real answer: the instance page draws
# them, and a branch's incident, team and error are text like the rest.
WITH_BRANCHES = """
const real = window.fetch;
window.fetch = async (path, init) => {
  const response = await real(path, init);
  if (!/^\\/v1\\/instances\\/[^/]+$/.test(path)) return response;
  const view = await response.json();
  view.branches = [
    {key: 'L-1', step: 'inspect', status: 'suspended',
     incident: {step: 'inspect', error: {code: 'Damaged', message: arguments[0]}, team: 'warehouse'}},
    {key: 'L-2', step: 'await_line', status: 'waiting', incident: null}];
  view.children = [{id: view.id, workflow: 'vendor-repair', version: 1, step: 'repair', branch: 'L-1',
                    status: 'running', business_key: 'REPAIR-1'}];
  return new Response(JSON.stringify(view), {status: 200, headers: {'Content-Type': 'application/json'}});
};
"""


def branches_and_children_render(console):
    console.driver.execute_script(WITH_BRANCHES, XSS)
    console.wait(lambda d: 'Branches' in console.text() and 'Child workflows' in console.text(),
                 'the branches and children sections')
    text = console.text()
    for expected in ('L-1', 'inspect', 'warehouse', f'Damaged: {XSS}', 'L-2', 'await_line', 'REPAIR-1',
                     'vendor-repair v1', 'repair [L-1]'):
        check(expected in text, f'the instance page lacks "{expected}"')


def viewer_gets_no_repairs(console, server, tokens, suspended_id):
    console.sign_out()
    console.sign_in(tokens['viewer'])
    console.driver.get(f'{server.url}/#/instance/{suspended_id}')
    console.heading('RMA-1023')
    console.wait(lambda d: console.find('.graph g.step.failing'), 'the graph')
    check(console.find('[data-action]') == [], 'a viewer is offered repairs')
    check(console.find('.graph [role="button"]') == [], 'a viewer can pick steps for goto')
    check(console.find('.timeline li'), 'the viewer sees no timeline')
    forced = console.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/v1/instances/' + arguments[0] + '/actions/resolve', {
          method: 'POST',
          headers: {'Authorization': 'Bearer ' + sessionStorage.getItem('rmaflow.token'),
                    'Content-Type': 'application/json'},
          body: JSON.stringify({reason: 'forced'})})
        .then(async (r) => done({status: r.status, body: await r.json()}), (e) => done({error: String(e)}));
    """, suspended_id)
    check(forced.get('status') == 403, f'a forced action answered {forced}')
    check(forced['body']['type'] == 'urn:rmaflow:problem:forbidden', f'a forced action answered {forced}')
    status, view = api(server, tokens['operator'], 'GET', f'/v1/instances/{suspended_id}')
    check(view['status'] == 'suspended', f"the forced action changed the instance: {view['status']}")
    console.safe()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--binary', type=Path, required=True)
    parser.add_argument('--source', type=Path, required=True)
    parser.add_argument('--out', type=Path, required=True)
    args = parser.parse_args()
    work = args.out / 'work'
    tokens = prepare(args, work)
    server = Server([args.binary, 'serve', '--db', work / 'returns.db', '--workflows', args.source / 'workflows',
                     '--adapters', work / 'adapters.yaml', '--auth', work / 'tokens.yaml',
                     '--listen', '127.0.0.1:0'], work / 'server.log')
    profile = tempfile.mkdtemp(prefix='rmaflow-chromium-')
    driver = None
    try:
        driver = browser(profile)
        console = Console(driver, server.url, args.out / 'screenshots')
        suspended = operator_repairs_the_credit_hold(console, server, tokens)
        operator_redrives_an_expired_return(console, server, tokens)
        operator_filters_by_search_attributes(console, server, tokens)
        hostile_input_renders_as_text(console, server, tokens)
        viewer_gets_no_repairs(console, server, tokens, suspended)
        # Refusals the test provoked (403, 422) are logged as failed loads; anything else severe
        # (an uncaught exception, a blocked resource) fails the test.
        errors = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE'
                  and 'the server responded with a status of 4' not in e['message']]
        check(errors == [], f'the browser logged errors: {errors}')
        print('console test: ok')
        return 0
    except Failure as failure:
        print(f'console test failed: {failure}', file=sys.stderr)
        if driver is not None:
            shot = args.out / 'failure.png'
            driver.save_screenshot(str(shot))
            print(f'the page at the failure: {shot}', file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
