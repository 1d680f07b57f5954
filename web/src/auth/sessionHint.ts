// Whether this browser was signed in when it last looked. Not a secret (the session is an httpOnly
// cookie the page cannot read): it only spares a first-time visitor the /auth/me probe, whose 401
// the browser would log as a console error on every fresh page load.
const KEY = "tradewarden.signed-in";

export function readSessionHint(): boolean {
  try {
    return window.localStorage.getItem(KEY) === "1";
  } catch {
    return true; // storage unavailable: probe, which is always correct, just noisier
  }
}

export function writeSessionHint(signedIn: boolean): void {
  try {
    if (signedIn) window.localStorage.setItem(KEY, "1");
    else window.localStorage.removeItem(KEY);
  } catch {
    // storage unavailable: nothing to remember
  }
}
