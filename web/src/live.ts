// Live updates: one EventSource on /api/v1/events per page; each change
// marks the matching queries stale so lists and detail pages refetch.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { api } from './api.ts';

export type LiveState = 'connecting' | 'live' | 'offline';

export function useLiveUpdates(options: { enabled: boolean; onExpired: () => void }): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  const { enabled, onExpired } = options;

  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource('/api/v1/events');
    source.addEventListener('ready', () => {
      setState('live');
      // Whatever changed while disconnected is fetched again.
      void client.invalidateQueries();
    });
    source.addEventListener('incident', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { id: number };
      void client.invalidateQueries({ queryKey: ['incidents'] });
      void client.invalidateQueries({ queryKey: ['incident', data.id] });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
      void client.invalidateQueries({ queryKey: ['approvals'] });
    });
    source.addEventListener('execution', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { id: string };
      void client.invalidateQueries({ queryKey: ['executions'] });
      void client.invalidateQueries({ queryKey: ['execution', data.id] });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
    });
    source.addEventListener('expired', () => {
      source.close();
      onExpired();
    });
    source.onerror = () => {
      setState('offline');
      // A refused reconnect (an expired session) closes the source for good;
      // asking who we are lets a 401 bring up the login form.
      if (source.readyState === EventSource.CLOSED)
        void api('/api/v1/console/session').catch(() => {});
    };
    return () => source.close();
  }, [enabled, client, onExpired]);

  return enabled ? state : 'offline';
}
