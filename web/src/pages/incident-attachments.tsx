// Images on an incident: every role sees them; operators attach a PNG or
// JPEG (up to 5 MB), which the vision role then describes onto the
// timeline (the description arrives live, like every timeline event).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api, listAll } from '../api.ts';
import { useCan } from '../session.tsx';
import { ErrorLine, Section, Time } from '../ui.tsx';

type Attachment = {
  id: number;
  mediaType: string;
  filename: string | null;
  bytes: number;
  createdBy: string;
  createdAt: string;
};

const maxBytes = 5 * 1024 * 1024;

/** The file's bytes as base64 (what the API takes), without the data: URL prefix. */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(file);
  });
}

export function IncidentAttachments(props: { incidentId: number }) {
  const { incidentId } = props;
  const canAttach = useCan('operator');
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['incident', incidentId, 'attachments'],
    queryFn: () =>
      listAll<Attachment>(`/api/v1/incidents/${incidentId}/attachments`, 'attachments').then(
        (attachments) => ({ attachments }),
      ),
  });
  const upload = useMutation({
    mutationFn: async (f: File) =>
      api(`/api/v1/incidents/${incidentId}/attachments`, {
        method: 'POST',
        body: { data: await readBase64(f), filename: f.name },
      }),
    onSuccess: () => {
      setFile(null);
      void client.invalidateQueries({ queryKey: ['incident', incidentId] });
    },
  });
  const items = list.data?.attachments ?? [];
  if (!canAttach && items.length === 0) return null;
  return (
    <Section title="Images">
      <ErrorLine error={list.error} />
      {items.length > 0 && (
        <ul className="attachments">
          {items.map((a) => (
            <li key={a.id}>
              <a href={`/api/v1/incidents/${incidentId}/attachments/${a.id}`}>
                <img
                  src={`/api/v1/incidents/${incidentId}/attachments/${a.id}`}
                  alt={`Attachment ${a.id}${a.filename ? `: ${a.filename}` : ''}`}
                  loading="lazy"
                />
              </a>
              <span className="muted">
                {a.filename ?? `attachment ${a.id}`}, {Math.ceil(a.bytes / 1024)} KB, by{' '}
                {a.createdBy} <Time at={a.createdAt} />
              </span>
            </li>
          ))}
        </ul>
      )}
      {canAttach && (
        <form
          aria-label="Attach an image"
          onSubmit={(e) => {
            e.preventDefault();
            if (!file) return setInvalid('Choose a PNG or JPEG image.');
            if (file.size > maxBytes) return setInvalid('The image is over 5 MB.');
            setInvalid(null);
            upload.mutate(file);
          }}
        >
          <label>
            Screenshot or graph (PNG or JPEG, up to 5 MB)
            <input
              type="file"
              accept="image/png,image/jpeg"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </label>
          <p className="muted">The vision model describes it on the timeline.</p>
          <button type="submit" disabled={upload.isPending}>
            Attach image
          </button>
          {invalid && (
            <p role="alert" className="error">
              {invalid}
            </p>
          )}
          <ErrorLine error={upload.error} />
        </form>
      )}
    </Section>
  );
}
