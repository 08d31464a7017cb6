/**
 * The documentation site, built and served on 127.0.0.1, works in a real browser: pages render, the sidebar
 * navigates, code blocks are there, nothing is logged as an error, and nothing is requested from any other host.
 *
 * It needs Chromium at /usr/bin/chromium (CI installs Debian's). Without it the suite is skipped and says why;
 * on CI (`CI` set) it fails instead.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { publicModules, render, write } from "../../scripts/api-docs.js"

const root = path.resolve(import.meta.dirname, "../..")
const chromiumPath = "/usr/bin/chromium"
const hasChromium = fs.existsSync(chromiumPath)
const onCi = (process.env.CI ?? "") !== ""

// Processes and the static server

const runToEnd = (command: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...process.env, NO_COLOR: "1" } })
    let output = ""
    child.stdout.on("data", (chunk) => {
      output += chunk
    })
    child.stderr.on("data", (chunk) => {
      output += chunk
    })
    child.on("error", reject)
    child.on("close", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command.join(" ")} exited with ${code}:\n${output}`))
    )
  })

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".png": "image/png",
  ".ico": "image/x-icon"
}

/** Serves a built site as a static host would: `/x` and `/x.html` alike, `/dir/` as its index, 404.html otherwise. */
const serve = (directory: string): Promise<http.Server> =>
  new Promise((resolve) => {
    const server = http.createServer((request, response) => {
      const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname)
      const candidates = pathname.endsWith("/")
        ? [`${pathname}index.html`]
        : [pathname, `${pathname}.html`, `${pathname}/index.html`]
      const found = candidates
        .map((candidate) => path.join(directory, path.normalize(candidate)))
        .find((file) => file.startsWith(directory) && fs.existsSync(file) && fs.statSync(file).isFile())
      const file = found ?? path.join(directory, "404.html")
      response.writeHead(found === undefined ? 404 : 200, {
        "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream"
      })
      fs.createReadStream(file).pipe(response)
    })
    server.listen(0, "127.0.0.1", () => resolve(server))
  })

const isLoopback = (url: string): boolean => {
  const { hostname, protocol } = new URL(url)
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]"
}

// The browser

interface Session {
  readonly context: BrowserContext
  readonly page: Page
  readonly origin: string
  /** Console errors and uncaught page errors, as they happen. */
  readonly errors: Array<string>
  /** Requests to any host but loopback, which were blocked. */
  readonly external: Array<string>
}

/** The page's title, without the anchor VitePress appends to headings. */
const heading = (page: Page): Promise<string> =>
  page
    .locator(".vp-doc h1")
    .first()
    .textContent()
    .then((text) => (text ?? "").replace(/[\u200b\s]+$/u, ""))

/** Clicks the sidebar link to `route` (the guide and the API reference share some names) and waits for its page. */
const clickSidebar = async (page: Page, route: string, title: string) => {
  await page.locator(`.VPSidebar a[href="${route}.html"]`).click()
  await expect.poll(() => heading(page)).toBe(title)
  expect(new URL(page.url()).pathname).toBe(`${route}.html`)
}

const codeBlocks = (page: Page) => page.locator('.vp-doc div[class*="language-"] pre code')

const missing = `${chromiumPath} is not installed (Debian: apt-get install chromium)`

if (!hasChromium && !onCi) {
  console.warn(`test/docs/site.test.ts: SKIPPED, ${missing}. CI fails instead.`)
}

describe.skipIf(!hasChromium && !onCi)(
  hasChromium || onCi ? "documentation site in Chromium" : `documentation site in Chromium: SKIPPED, ${missing}`,
  () => {
    let started: Session | undefined
    let server: http.Server | undefined
    let temporary: string | undefined

    /** The browser session; on CI without Chromium, every test fails saying what is missing. */
    const browser = (): Session => {
      if (started === undefined) throw new Error(`${missing}: CI must install it before running the tests`)
      return started
    }

    beforeAll(async () => {
      if (!hasChromium) return
      temporary = fs.mkdtempSync(path.join(os.tmpdir(), "docs-site-"))
      const outDir = path.join(temporary, "site")
      // What `npm run docs:api` does, in this process: the reference pages, then the site built with them.
      write(render(root, publicModules(root)), path.join(root, "docs", "api"))
      await runToEnd([
        process.execPath,
        path.join(root, "node_modules", "vitepress", "bin", "vitepress.js"),
        "build",
        "docs",
        "--outDir",
        outDir
      ])
      server = await serve(outDir)
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

      const context = await chromium.launchPersistentContext(path.join(temporary, "profile"), {
        executablePath: chromiumPath,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync"
        ]
      })
      const page = context.pages()[0] ?? (await context.newPage())
      const errors: Array<string> = []
      const external: Array<string> = []
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`)
      })
      page.on("pageerror", (error) => errors.push(`page: ${error.message}`))
      await page.route("**/*", (route) => {
        const url = route.request().url()
        if (isLoopback(url)) return route.continue()
        external.push(url)
        return route.abort("blockedbyclient")
      })
      started = { context, page, origin, errors, external }
    }, 300_000)

    afterAll(async () => {
      await started?.context.close()
      await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)))
      if (temporary !== undefined) fs.rmSync(temporary, { recursive: true, force: true })
    })

    it(`runs in Chromium at ${chromiumPath}`, () => {
      expect(hasChromium, `${missing}: CI must install it before running the tests`).toBe(true)
    })

    it("renders the home page with the quick start", async () => {
      const { origin, page } = browser()
      const response = await page.goto(`${origin}/`)
      expect(response?.status()).toBe(200)
      await expect.poll(() => page.title()).toContain("effect-opensolar-auth")
      await expect.poll(() => heading(page)).toBe("effect-opensolar-auth")
      expect(await codeBlocks(page).count()).toBeGreaterThanOrEqual(3)
      expect(await page.locator("text=OpenSolar.layerConfig").count()).toBeGreaterThan(0)
    })

    it("navigates the guide through the sidebar, and every page has its code", async () => {
      const { origin, page } = browser()
      await page.goto(`${origin}/getting-started`)
      await expect.poll(() => heading(page)).toBe("Getting started")
      expect(await codeBlocks(page).count()).toBeGreaterThanOrEqual(3)

      const guide: ReadonlyArray<readonly [string, string]> = [
        ["/strategies", "Strategies"],
        ["/token-ref", "TokenRef and refreshes"],
        ["/client", "OpenSolarClient"],
        ["/mfa", "MFA and TOTP"],
        ["/machine-users", "Machine users"],
        ["/nearmap", "Nearmap users"],
        ["/orgs", "Organisations"],
        ["/token-storage", "Token storage"],
        ["/fleet", "Running a fleet"],
        ["/errors", "Errors and retries"],
        ["/testing", "Testing with the simulator"],
        ["/cli", "The CLI"],
        ["/security", "Security"],
        ["/recipes", "Recipes"]
      ]
      for (const [link, title] of guide) {
        await clickSidebar(page, link, title)
        expect(await codeBlocks(page).count(), `code blocks on "${title}"`).toBeGreaterThan(0)
        expect(await codeBlocks(page).first().textContent(), `first code block on "${title}"`).not.toBe("")
      }
    })

    it("draws the token timeline", async () => {
      const { origin, page } = browser()
      await page.goto(`${origin}/token-ref`)
      const figure = page.locator("figure.token-timeline svg")
      await figure.waitFor({ state: "visible" })
      const box = await figure.boundingBox()
      expect(box?.width).toBeGreaterThan(300)
      const labels = await figure.locator("text").allTextContents()
      expect(labels).toEqual(expect.arrayContaining(["refresh point", "deadline", "expiry", "± jitter"]))
    })

    it("shows the generated API reference", async () => {
      const { origin, page } = browser()
      await page.goto(`${origin}/api/`)
      await expect.poll(() => heading(page)).toBe("API reference")
      await clickSidebar(page, "/api/TokenRef", "TokenRef")
      expect(await page.locator("#layer").count()).toBe(1)
      expect(await codeBlocks(page).count()).toBeGreaterThan(5)
      await clickSidebar(page, "/api/testing", "testing")
      expect(await page.locator("text=Simulator.layer").count()).toBeGreaterThan(0)
    })

    it("finds pages with the local search", async () => {
      const { origin, page } = browser()
      await page.goto(`${origin}/`)
      await page.locator(".VPNavBarSearch button").click()
      await page.locator(".VPLocalSearchBox input").fill("machine user")
      await expect.poll(() => page.locator(".VPLocalSearchBox .result").count()).toBeGreaterThan(0)
      await page.keyboard.press("Escape")
    })

    it("logged no errors and asked nothing of any other host", () => {
      expect(browser().errors).toEqual([])
      expect(browser().external).toEqual([])
    })
  }
)
