// Who is logged in, with which role, and the CSRF token for writes. An
// expired session (any 401, or the events stream saying so) drops back to the
// login form without leaving the page; logging in again shows that page.
import { useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';

import { api, setCsrfToken, setUnauthorizedHandler } from './api.ts';

export type Role = 'viewer' | 'operator' | 'admin';
const order: Role[] = ['viewer', 'operator', 'admin'];

export type Session = { username: string; role: Role; kind: string };

type SessionState = {
  session: Session | null | undefined;
  expired: boolean;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
  expire(): void;
};

const Ctx = createContext<SessionState | null>(null);

export function SessionProvider(props: { children: ReactNode }) {
  // undefined: not known yet; null: logged out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const client = useQueryClient();
  // Who the cached data was read for: another user logging in starts empty.
  const cachedFor = useRef<string | null>(null);

  const expire = useCallback(() => {
    setSession((s) => {
      if (s) setExpired(true);
      return null;
    });
    setCsrfToken(null);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(expire);
    api<{ kind: string; role: Role; username: string; csrfToken: string | null }>(
      '/api/v1/console/session',
    ).then(
      (s) => {
        cachedFor.current = s.username;
        setCsrfToken(s.csrfToken);
        setSession({ username: s.username, role: s.role, kind: s.kind });
      },
      () => setSession(null),
    );
  }, [expire]);

  const login = useCallback(
    async (username: string, password: string) => {
      const r = await api<{ user: { username: string; role: Role }; csrfToken: string }>(
        '/api/v1/auth/login',
        { method: 'POST', body: { username, password } },
      );
      setCsrfToken(r.csrfToken);
      setExpired(false);
      if (cachedFor.current !== r.user.username) client.clear();
      cachedFor.current = r.user.username;
      setSession({ username: r.user.username, role: r.user.role, kind: 'session' });
    },
    [client],
  );

  const logout = useCallback(async () => {
    try {
      await api('/api/v1/auth/logout', { method: 'POST' });
    } finally {
      setCsrfToken(null);
      setExpired(false);
      setSession(null);
      client.clear();
      cachedFor.current = null;
    }
  }, [client]);

  return (
    <Ctx.Provider value={{ session, expired, login, logout, expire }}>
      {props.children}
    </Ctx.Provider>
  );
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Whether the logged-in role may do what needs `needed`. */
export function useCan(needed: Role): boolean {
  const { session } = useSession();
  return !!session && order.indexOf(session.role) >= order.indexOf(needed);
}
