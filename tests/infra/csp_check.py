"""Chromium over a running `make dev` with a given Content-Security-Policy on every document.

    python -m tests.infra.csp_check < request.json > result.json

request: {"base_url", "join_key", "tokens": {role: token}, "screens": {role: [hash, ...]}, "policy",
"strict_policy"}. result: {check: {"violations": [...], ...}}. A process of its own because Playwright's
sync API allows one instance per thread, and the browser tests' session already holds one.
Service workers are blocked so that every document comes from the network with the header (a worker's
cached copy would carry none); the registration script still runs.
"""
import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# A fulfilled document has no address, so Chromium counts it as public and would refuse its requests to the
# loopback moto server (local network access). In AWS the page and S3 are both public.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-features=LocalNetworkAccessChecks"]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`.trim()));
"""
UPLOAD = """async ([token, png]) => {
    const { presignedPost } = await import('/js/upload.js');
    const res = await fetch('/api/payment-qr/uploads', {method: 'POST',
      headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'}, body: '{}'});
    const presigned = await res.json();
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    try {
      return await presignedPost(presigned, new File([bytes], 'qr.png', {type: 'image/png'}));
    } catch (e) {
      return `refused: ${e.message}`;
    }
}"""


def _open(browser, base_url: str, url: str, policy: str):
    context = browser.new_context(service_workers="block", locale="zh-CN", viewport={"width": 390, "height": 844})
    console = []
    context.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    context.add_init_script(WATCH)

    def with_csp(route):
        if route.request.resource_type != "document":
            return route.continue_()
        response = route.fetch()
        return route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})

    context.route(f"{base_url}/**", with_csp)
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return context, page, console


def run(request: dict) -> dict:
    base, tokens, policy = request["base_url"], request["tokens"], request["policy"]
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context, page, console = _open(browser, base, f"{base}/#/join/{request['join_key']}", policy)
            results["join"] = {"text": page.evaluate("document.querySelector('main').textContent").strip(),
                               "violations": page.evaluate("window.__csp") + console}
            context.close()
            for role, screens in request["screens"].items():
                context, page, console = _open(browser, base, f"{base}/#/signin/{tokens[role]}", policy)
                for screen in screens:
                    page.evaluate(f"location.hash = {screen!r}")
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(300)
                    results[f"{role} {screen}"] = {"violations": page.evaluate("window.__csp") + console}
                context.close()
            for name, check_policy in (("upload", policy), ("upload, bucket left out", request["strict_policy"])):
                context, page, console = _open(browser, base, f"{base}/#/signin/{tokens['supplier']}", check_policy)
                outcome = page.evaluate(UPLOAD, [tokens["supplier"], PNG])
                results[name] = {"outcome": outcome, "violations": page.evaluate("window.__csp") + console}
                context.close()
        finally:
            browser.close()
    return results


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
