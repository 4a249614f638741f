// The supervision story in a real browser: the supervisor imports a real .xlsx task table, the
// lead unit's liaison signs for an item and reports, asks to close it, the supervisor closes it,
// and the leader sees it closed.
const { test, expect } = require('@playwright/test');
const fs = require('fs');
const path = require('path');

const shot = (name) => path.join(process.env.E2E_SHOTS, name);
const PASSWORD = 'E2e#2026-demo';
const MEASURE = '（1）完成12个老旧小区改造';

async function signIn(page, username) {
  await page.goto('/login');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await expect(page.locator('h1')).toHaveText('首页');
}

test('an imported item goes from the supervisor to the unit and back to closed', async ({ browser }) => {
  const year = new Date().getFullYear() + 1;

  // The supervisor exports the demo ledger as a real workbook and imports it as next year's.
  const sup = await (await browser.newContext()).newPage();
  await signIn(sup, 'ducha');
  await sup.goto('/supervision');
  await expect(sup.locator('table.ledger')).toContainText(MEASURE);
  await sup.screenshot({ path: shot('supervision-ledger.png'), fullPage: true });
  const [download] = await Promise.all([
    sup.waitForEvent('download'),
    sup.click('a:has-text("导出 Excel")'),
  ]);
  const xlsx = path.join(process.env.E2E_DATA_DIR, 'ledger.xlsx');
  await download.saveAs(xlsx);
  expect(fs.readFileSync(xlsx).subarray(0, 2).toString()).toBe('PK');
  await sup.click('details.import > summary');
  await sup.fill('#import-year', String(year));
  await sup.setInputFiles('#import-file', xlsx);
  await sup.click('button:has-text("上传并导入")');
  await expect(sup.locator('.alert.ok')).toContainText('已导入');
  await sup.goto(`/supervision?year=${year}&q=${encodeURIComponent('老旧小区')}`);
  const link = sup.locator('table.ledger a', { hasText: MEASURE });
  await expect(link).toHaveCount(1);
  const itemUrl = await link.getAttribute('href');

  // A leader writes an instruction (批示) on it.
  const leader = await (await browser.newContext()).newPage();
  await signIn(leader, 'lingdao');
  await leader.goto(itemUrl);
  await leader.fill('textarea[name=note]', '要确保质量，按期完成。');
  await leader.click('button:has-text("批示")');
  await expect(leader.locator('.instructions')).toContainText('确保质量');

  // The lead unit's liaison is told, signs for it, reports, and asks to close it.
  const lly = await (await browser.newContext()).newPage();
  await signIn(lly, 'zjj_lly');
  await lly.goto('/inbox');
  await expect(lly.locator('.inbox')).toContainText('批示');
  await lly.screenshot({ path: shot('inbox-liaison.png'), fullPage: true });
  await lly.goto(itemUrl);
  await lly.click('button:has-text("签收")');
  await expect(lly.locator('.tag.state')).toHaveText('办理中');
  await lly.fill('#done', '12个小区全部完工并通过验收。');
  await lly.fill('#percent', '100');
  await lly.click('button:has-text("报送")');
  await expect(lly.locator('.report')).toContainText('全部完工');
  await lly.click('button:has-text("申请办结")');
  await expect(lly.locator('.tag.state')).toHaveText('申请办结');
  await lly.screenshot({ path: shot('supervision-item-liaison.png'), fullPage: true });

  // The supervisor closes it.
  await sup.goto(itemUrl);
  await sup.click('button:has-text("同意办结")');
  await expect(sup.locator('.tag.state')).toHaveText('已办结');

  // The leader is told it is done and sees it closed.
  await leader.goto('/inbox');
  await expect(leader.locator('.inbox')).toContainText('您批示的事项已办结');
  await leader.goto(itemUrl);
  await expect(leader.locator('.tag.state')).toHaveText('已办结');
  await expect(leader.locator('.timeline')).toContainText('同意办结');
  await leader.screenshot({ path: shot('supervision-item-leader.png'), fullPage: true });
});
