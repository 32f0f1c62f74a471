// The login form, shown in place of any page while logged out.
import { useState } from 'react';

import { useSession } from '../session.tsx';
import { ErrorLine } from '../ui.tsx';

export function LoginPage() {
  const { login, expired } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main className="login" id="main">
      <h1>Warden</h1>
      {expired && (
        <p role="status" className="notice">
          Your session has expired. Log in again to return to this page.
        </p>
      )}
      <form
        aria-label="Log in"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          setBusy(true);
          setError(null);
          login(String(data.get('username')), String(data.get('password')))
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        <label>
          Username
          <input name="username" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Log in
        </button>
        <ErrorLine error={error} />
      </form>
    </main>
  );
}
