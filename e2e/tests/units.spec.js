// The platform story in a real browser: sign in, add a unit, find it in the tree.
const { test, expect } = require('@playwright/test');
const path = require('path');

const shot = (name) => path.join(process.env.E2E_SHOTS, name);
const PASSWORD = 'E2e#2026-demo';

async function signIn(page, username) {
  await page.goto('/login');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
}

test('the system administrator adds a unit and finds it in the tree', async ({ page }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/login');
  await expect(page.locator('.login-region')).toContainText('明湖县');
  await page.screenshot({ path: shot('login.png'), fullPage: true });
  await signIn(page, 'xitong');
  await expect(page.locator('h1')).toHaveText('首页');
  await page.screenshot({ path: shot('home.png'), fullPage: true });

  await page.click('nav >> text=组织机构');
  await expect(page.locator('h1')).toHaveText('组织机构');
  await page.fill('#name', '端到端测试局');
  await page.selectOption('#parent_id', { label: '县委办公室' });
  await page.selectOption('#unit_type', 'department');
  await page.click('button:has-text("新增单位")');
  await expect(page.locator('.alert.ok')).toHaveText('单位已新增');
  const link = page.locator('#unit-tree li a', { hasText: '端到端测试局' });
  await expect(link).toBeVisible();
  await page.screenshot({ path: shot('units-after-add.png'), fullPage: true });

  // Typing in the filter keeps the matching unit and its group, and hides the rest.
  await page.fill('.tree-filter', '端到端');
  await expect(link).toBeVisible();
  await expect(page.locator('#unit-tree li a', { hasText: '县财政局' })).toBeHidden();
  await page.fill('.tree-filter', '');
  await expect(page.locator('#unit-tree li a', { hasText: '县财政局' })).toBeVisible();
  expect(errors).toEqual([]);

  // Its page names the parent it was added under.
  await link.click();
  await expect(page.locator('dl.facts')).toContainText('县委办公室');
  await page.screenshot({ path: shot('unit.png'), fullPage: true });
});

test('a duplicate name is refused next to the field', async ({ page }) => {
  await signIn(page, 'xitong');
  await page.goto('/units');
  await page.fill('#name', '县财政局');
  await page.click('button:has-text("新增单位")');
  await expect(page.locator('.field-error').first()).toContainText('已有名为');
});

test('the home page works at phone width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'ducha');
  await expect(page.locator('h1')).toHaveText('首页');
  await expect(page.locator('nav.sidebar')).toBeVisible();
  await page.screenshot({ path: shot('phone-home.png'), fullPage: true });
});

test('the audit administrator sees the log and verifies the chain', async ({ page }) => {
  await signIn(page, 'shenji');
  await page.goto('/audit');
  await expect(page.locator('table.table')).toContainText('登录成功');
  await page.click('button:has-text("校验审计链完整性")');
  await expect(page.locator('.alert.ok')).toContainText('校验通过');
  await page.screenshot({ path: shot('audit.png'), fullPage: true });
});

test('the calendar shows the 2024 Spring Festival and its make-up Sundays', async ({ page }) => {
  await signIn(page, 'xitong');
  await page.goto('/calendar?year=2024');
  await expect(page.locator('table.table')).toContainText('春节');
  await expect(page.locator('.makeup').first()).toBeVisible();
  await page.screenshot({ path: shot('calendar.png'), fullPage: true });
});
