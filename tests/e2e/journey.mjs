// One user journey through the real WeGo frontend against moim-local, in Debian's
// headless Chromium (started by tests/e2e/run.sh, which sets the environment):
// two people sign up and log in; the host creates a FREE group with a photo; the
// guest finds it in the list and by keyword, joins it and the host sees the
// GROUP_JOIN notification arrive live (SSE); they chat both ways (STOMP over
// SockJS); the host creates an APPROVAL_REQUIRED group, the guest applies, the
// host sees the request live and approves it; the host replaces the first
// group's photo and changes the profile photo. Every step is checked in the UI
// and, where the UI cannot show it, through the API; a screenshot is saved after
// each step (and on failure) in $E2E_OUT.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

import { chromium } from 'playwright-core';

const WEB = need('E2E_WEB'); // the frontend, e.g. http://local.wego.monster:3001
const API = need('E2E_API'); // moim-local on loopback, for checks behind the UI
const HOST = need('E2E_HOST'); // the *.wego.monster name both servers answer under
const OUT = need('E2E_OUT');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 20000);
const RUN = Date.now().toString(36).slice(-5);

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run tests/e2e/run.sh)`);
  return value;
}

const started = Date.now();
const log = (msg) => console.log(`[journey +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
mkdirSync(OUT, { recursive: true });

// --- test photos: small solid-colour PNGs, made here so nothing binary is committed
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function png(width, height, [r, g, b]) {
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const photo = (name, rgb) => ({ name, mimeType: 'image/png', buffer: png(480, 320, rgb) });

// --- third-party scripts the pages load, answered offline ------------------------
// The Kakao map SDK: any property is another stub, calls and `new` return stubs,
// `maps.load(cb)` runs cb and the geocoder answers OK with one coordinate.
const KAKAO_SDK = `(() => {
  const stub = () => {
    const children = new Map();
    return new Proxy(function () {}, {
      get(target, prop) {
        if (prop === 'then') return undefined;
        if (prop === 'prototype') return target.prototype;
        if (prop === Symbol.toPrimitive) return () => 0;
        if (typeof prop === 'symbol') return undefined;
        if (prop === 'load') return (cb) => setTimeout(cb, 0);
        if (prop === 'OK') return 'OK';
        if (prop === 'addressSearch') return (_q, cb) => cb([{ x: '127.0364', y: '37.5006' }], 'OK');
        if (!children.has(prop)) children.set(prop, stub());
        return children.get(prop);
      },
      apply: () => stub(),
      construct: () => stub(),
    });
  };
  window.kakao = stub();
})();`;
// The Daum postcode widget: embed() shows one button that picks a fixed address.
const DAUM_POSTCODE = `window.daum = { Postcode: function (options) {
  const pick = () => options.oncomplete({ sido: '서울', sigungu: '강남구', bname: '역삼동',
    address: '서울 강남구 역삼동', zonecode: '06236' });
  this.embed = (el) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'E2E 주소 선택';
    button.onclick = pick;
    el.appendChild(button);
  };
  this.open = pick;
} };`;

async function offline(context) {
  await context.route(
    (url) => url.hostname !== HOST && url.hostname !== '127.0.0.1',
    (route) => {
      const { hostname, pathname } = new URL(route.request().url());
      if (hostname === 'dapi.kakao.com')
        return route.fulfill({ contentType: 'application/javascript', body: KAKAO_SDK });
      if (hostname === 't1.daumcdn.net' && pathname.includes('postcode'))
        return route.fulfill({ contentType: 'application/javascript', body: DAUM_POSTCODE });
      return route.abort('blockedbyclient'); // fonts from jsDelivr, analytics, …
    },
  );
}

// --- browser, people, steps -----------------------------------------------------------
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--no-sandbox',
    `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
    // Plain http on a real-looking name is not a secure context, and the frontend
    // calls crypto.randomUUID (secure contexts only); its deployment is https.
    `--unsafely-treat-insecure-origin-as-secure=${WEB},${new URL(WEB).protocol}//${HOST}:${new URL(API).port}`,
  ],
});

const problems = [];
async function person(label) {
  const context = await browser.newContext({ viewport: { width: 440, height: 900 }, locale: 'ko-KR' });
  context.setDefaultTimeout(TIMEOUT);
  await offline(context);
  const page = await context.newPage();
  const live = []; // notifications the SSE provider logged
  const errors = []; // console errors, shown when a step fails
  page.on('console', async (msg) => {
    const text = msg.text();
    if (msg.type() === 'error') errors.push(text.slice(0, 500));
    if (text.startsWith('[DEBUG] SSE - 수신 성공')) {
      const value = await msg.args()[1]?.jsonValue().catch(() => null);
      if (value) live.push(value);
    }
  });
  // STOMP frames the page sends through SockJS, to know when a room is subscribed.
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (frame) => sent.push(String(frame.payload))));
  page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.stack || err.message}`));
  page.on('response', (res) => {
    if (res.url().startsWith(`http://${HOST}`) && res.status() >= 500)
      problems.push(`${label}: ${res.status()} from ${res.request().method()} ${res.url()}`);
  });
  const who = {
    label,
    context,
    page,
    live,
    errors,
    sent,
    email: `${label}-${RUN}@e2e.test`,
    nickName: `${label}${RUN}`,
    password: 'e2e-pass1!',
  };
  return who;
}

let shots = 0;
async function shot(who, name) {
  shots += 1;
  const slug = `${who.label} ${name}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const file = join(OUT, `${String(shots).padStart(2, '0')}-${slug}.png`);
  const { page } = who;
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
}

async function step(name, who, body) {
  log(`${who.label}: ${name}`);
  try {
    await body(who.page);
  } catch (err) {
    await shot(who, `FAILED ${name}`);
    let message = `step "${name}" (${who.label}, at ${who.page.url()}): ${err.message}`;
    if (problems.length) message += `\nproblems seen on the way:\n  ${problems.join('\n  ')}`;
    if (who.errors.length) message += `\n${who.label}'s console errors:\n  ${who.errors.join('\n  ')}`;
    throw new Error(message, { cause: err });
  }
  await shot(who, name);
}

function check(ok, what) {
  if (!ok) throw new Error(what);
}

// The page renders on the server first; typing before React hydrates is lost.
async function open(page, path) {
  await page.goto(`${WEB}${path}`, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle').catch(() => {});
}

// The response to the page's own call (not its CORS preflight).
function posted(page, path, method = 'POST') {
  return page.waitForResponse((r) => r.url().includes(path) && r.request().method() === method);
}
async function succeeded(response, what) {
  const res = await response;
  check(res.ok(), `${what} answered ${res.status()}: ${await res.text().catch(() => '')}`);
}

async function api(who, method, path) {
  const cookies = await who.context.cookies(WEB);
  const token = cookies.find((c) => c.name === 'accessToken')?.value;
  check(token, `${who.label} has no accessToken cookie`);
  const res = await fetch(`${API}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  check(res.ok, `${method} ${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return body.data;
}

// The chat page loads the history, then subscribes: a message sent in between
// reaches neither (the frontend does not reload after subscribing), so wait.
async function waitForSubscription(who, roomId) {
  const deadline = Date.now() + TIMEOUT;
  const wanted = `/sub/chat/room/${roomId}`;
  while (Date.now() < deadline) {
    if (who.sent.some((f) => f.includes('SUBSCRIBE') && f.includes(wanted))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${who.label} never subscribed to ${wanted}`);
}

async function waitForLive(who, type, groupId) {
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    const hit = who.live.find((n) => n.type === type && (groupId === undefined || n.group?.id === groupId));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no live ${type} notification for ${who.label}; got ${JSON.stringify(who.live)}`);
}

// --- the journey ------------------------------------------------------------------------
async function signUp(who) {
  await step('signup', who, async (page) => {
    await open(page, '/signup');
    await page.getByPlaceholder('이메일을 입력해주세요').fill(who.email);
    await page.getByRole('button', { name: '이메일 중복 확인' }).click();
    await page.getByText('사용 가능한 이메일입니다.').waitFor();
    await page.getByPlaceholder('닉네임을 입력해주세요').fill(who.nickName);
    await page.getByRole('button', { name: '닉네임 중복 확인' }).click();
    await page.getByText('사용 가능한 닉네임입니다.').waitFor();
    await page.getByPlaceholder('비밀번호를 입력해주세요').fill(who.password);
    await page.getByPlaceholder('비밀번호를 한 번 더 입력해주세요').fill(who.password);
    await page.getByText('서비스 이용약관에 동의합니다.').click();
    await page.getByRole('button', { name: '회원가입하기' }).click();
    await page.waitForURL(/\/login/);
  });
}

async function logIn(who) {
  await step('login', who, async (page) => {
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.getByPlaceholder('이메일을 입력해주세요').fill(who.email);
    await page.getByPlaceholder('비밀번호를 입력해주세요').fill(who.password);
    await page.getByRole('button', { name: '로그인하기', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/');
    const me = await api(who, 'GET', '/api/v1/users/me');
    check(me.email === who.email, `logged in as ${me.email}`);
    who.userId = me.userId;
  });
}

async function createGroup(who, { title, policy, photoColour }) {
  let groupId;
  await step(`create ${policy} group`, who, async (page) => {
    await open(page, '/create-group');
    await page.getByPlaceholder('모임 제목을 입력해주세요').fill(title);
    await page.getByRole('button', { name: '모임 장소를 입력해주세요' }).click();
    await page.getByRole('button', { name: 'E2E 주소 선택' }).click();
    await page.getByRole('button', { name: '날짜와 시간을 선택해주세요' }).click();
    await page.getByRole('button', { name: 'Next month' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '15', exact: true }).first().click();
    await page.getByRole('button', { name: '확인' }).click();
    await page.getByPlaceholder('최대 인원을 선택해주세요').fill('4');
    await page.getByText(policy === 'FREE' ? '즉시 참여' : '승인 후 참여', { exact: true }).click();
    const tags = page.getByPlaceholder('입력 후 Enter');
    await tags.fill('e2e');
    await tags.press('Enter');
    await page.getByPlaceholder('모임에 대해 설명해주세요').fill(`${title}: made by the moim end-to-end journey.`);
    const upload = posted(page, '/api/v2/groups/images/upload');
    await page.locator('input[type=file]').setInputFiles(photo(`${policy}.png`, photoColour));
    await succeeded(upload, 'the image upload');
    await page.locator('li img').first().waitFor();
    await page.getByRole('button', { name: '모임 생성' }).click();
    await page.waitForURL(/\/group\/\d+/);
    groupId = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByText(title).first().waitFor();
    const group = await api(who, 'GET', `/api/v2/groups/${groupId}`);
    check(group.joinPolicy === policy, `joinPolicy ${group.joinPolicy}`);
    check(group.images.length === 1, `group has ${group.images.length} images`);
  });
  return groupId;
}

async function main() {
  const host = await person('host');
  const guest = await person('guest');

  await signUp(host);
  await logIn(host);
  await signUp(guest);
  await logIn(guest);

  const freeTitle = `E2E 번개 ${RUN}`;
  const freeId = await createGroup(host, { title: freeTitle, policy: 'FREE', photoColour: [230, 90, 60] });

  await step('find the group in the list', guest, async (page) => {
    await open(page, '/');
    await page.getByText(freeTitle).first().waitFor();
  });
  await step('find the group by keyword', guest, async (page) => {
    await open(page, `/?keyword=${encodeURIComponent(RUN)}`);
    await page.getByText('검색결과').first().waitFor();
    await page.getByText(freeTitle).first().click();
    await page.waitForURL(new RegExp(`/group/${freeId}$`));
  });

  // The host keeps a page open: the SSE provider in the layout listens there.
  await open(host.page, `/group/${freeId}`);
  await step('join the FREE group', guest, async (page) => {
    await page.getByRole('button', { name: '참여하기' }).first().click();
    await page.getByRole('dialog').getByRole('button', { name: '참여하기' }).click();
    await page.getByRole('button', { name: '채팅 입장' }).waitFor();
    const group = await api(guest, 'GET', `/api/v2/groups/${freeId}`);
    check(group.myMembership?.status === 'ATTEND', `membership ${JSON.stringify(group.myMembership)}`);
  });
  await step('see the join arrive live', host, async () => {
    const n = await waitForLive(host, 'GROUP_JOIN', freeId);
    log(`host got ${n.type}: ${n.message}`);
  });

  const { chatRoomId } = await api(guest, 'GET', `/api/v2/groups/${freeId}`);
  await step('enter the chat', guest, async (page) => {
    await page.getByRole('button', { name: '채팅 입장' }).click();
    await page.waitForURL(new RegExp(`/message/chat/${chatRoomId}$`));
    await waitForSubscription(guest, chatRoomId);
  });
  await step('enter the chat', host, async (page) => {
    await page.reload();
    await page.getByRole('button', { name: '채팅 입장' }).click();
    await page.waitForURL(new RegExp(`/message/chat/${chatRoomId}$`));
    await waitForSubscription(host, chatRoomId);
  });
  const say = async (from, to, text) => {
    await step(`chat: ${from.label} says hello`, from, async (page) => {
      const box = page.getByPlaceholder('메세지를 입력해주세요.');
      await box.fill(text);
      await box.press('Enter');
      await page.getByText(text).first().waitFor();
    });
    await step(`chat: ${to.label} receives it`, to, async (page) => {
      await page.getByText(text).first().waitFor();
    });
  };
  await say(guest, host, `guest → host ${RUN}`);
  await say(host, guest, `host → guest ${RUN}`);

  // The creation cooldown (5 s per host) has long passed by now.
  const approvalTitle = `E2E 승인 ${RUN}`;
  const approvalId = await createGroup(host, {
    title: approvalTitle,
    policy: 'APPROVAL_REQUIRED',
    photoColour: [60, 120, 230],
  });
  await step('apply to the APPROVAL_REQUIRED group', guest, async (page) => {
    await open(page, `/group/${approvalId}`);
    await page.getByRole('button', { name: '참여 신청하기' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByPlaceholder('방장에게 간단한 메시지를 남길 수 있어요.').fill('끼워주세요!');
    await dialog.getByRole('button', { name: '신청하기' }).click();
    await page.getByText('대기중').first().waitFor();
  });
  await step('see the request arrive live', host, async () => {
    await waitForLive(host, 'GROUP_JOIN_REQUEST', approvalId);
  });
  await step('approve the request', host, async (page) => {
    await open(page, `/pending/${approvalId}`);
    await page.getByText(guest.nickName).first().waitFor();
    await page.getByRole('button', { name: '수락하기' }).first().click();
    await page.getByText('모임 신청이 수락되었습니다.').first().waitFor();
  });
  await step('see the approval arrive live, then enter', guest, async (page) => {
    await waitForLive(guest, 'GROUP_JOIN_APPROVED', approvalId);
    await page.reload();
    await page.getByRole('button', { name: '채팅 입장' }).waitFor();
  });

  await step("replace the group's photo", host, async (page) => {
    const before = await api(host, 'GET', `/api/v2/groups/${freeId}`);
    await open(page, `/create-group/${freeId}`);
    await page.getByRole('button', { name: '이미지 삭제 버튼' }).first().click();
    const upload = posted(page, '/api/v2/groups/images/upload');
    await page.locator('input[type=file]').setInputFiles(photo('replacement.png', [40, 170, 90]));
    await succeeded(upload, 'the image upload');
    await page.getByRole('button', { name: '모임 수정' }).click();
    await page.waitForURL(new RegExp(`/group/${freeId}$`));
    const after = await api(host, 'GET', `/api/v2/groups/${freeId}`);
    check(after.images.length === 1, `group has ${after.images.length} images after the edit`);
    check(
      after.images[0].imageKey !== before.images[0].imageKey,
      `the photo was not replaced (${after.images[0].imageKey})`,
    );
  });

  await step('change the profile photo', host, async (page) => {
    const before = await api(host, 'GET', '/api/v1/users/me');
    await open(page, '/mypage');
    await page.getByRole('button', { name: '프로필 수정하기' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('input[type=file]').setInputFiles(photo('me.png', [200, 60, 200]));
    const saved = posted(page, '/api/v1/users/profile-image', 'PATCH');
    await dialog.getByRole('button', { name: '수정하기' }).click();
    await succeeded(saved, 'the profile image upload');
    await dialog.waitFor({ state: 'hidden' });
    const after = await api(host, 'GET', '/api/v1/users/me');
    check(after.profileImage && after.profileImage !== before.profileImage, `profileImage ${after.profileImage}`);
  });

  check(problems.length === 0, `problems seen on the way:\n  ${problems.join('\n  ')}`);
  writeFileSync(join(OUT, 'journey.json'), JSON.stringify({ run: RUN, freeId, approvalId, shots }, null, 2));
  log(`done: ${shots} screenshots in ${OUT}`);
}

try {
  await main();
} finally {
  await browser.close();
}
