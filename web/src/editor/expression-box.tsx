// The expression and JSON text area with completions while typing (see
// autocomplete.ts): a list under the field, driven by the keyboard (arrows,
// Enter or Tab, Escape, Ctrl+Space) or a click, that replaces the token
// being typed.
import type { RefObject, TextareaHTMLAttributes } from 'react';
import { useState } from 'react';

import type { Completion } from './autocomplete.ts';
import { completionsAt } from './autocomplete.ts';
import type { PreviewContext } from './expressions.ts';

export function ExpressionBox(props: {
  id: string;
  /** id, disabled and the aria attributes of the field. */
  common: TextareaHTMLAttributes<HTMLTextAreaElement> & { id: string };
  box: RefObject<HTMLTextAreaElement | null>;
  rows: number;
  placeholder: string;
  text: string;
  set(text: string): void;
  context: PreviewContext | null;
  upstream: string[];
  /** '`' in a JSON parameter, where a double quote would end its string. */
  quote: '"' | '`';
}) {
  const { id, common, box, text, set } = props;
  const [ac, setAc] = useState<{ from: number; items: Completion[]; active: number } | null>(null);
  const suggest = (t: string, caret: number, force = false) => {
    const found = completionsAt(
      t,
      caret,
      {
        json: props.context?.json ?? {},
        nodes: props.context?.nodes ?? {},
        upstream: props.upstream,
      },
      { force, quote: props.quote },
    );
    setAc(found ? { ...found, active: 0 } : null);
  };
  const accept = (c: Completion) => {
    const el = box.current;
    if (!ac || !el) return;
    const caret = el.selectionStart;
    const next = text.slice(0, ac.from) + c.label + text.slice(caret);
    const at = ac.from + c.label.length;
    setAc(null);
    set(next);
    window.requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(at, at);
    });
  };
  const listId = `${id}-completions`;
  return (
    <div className="wf-complete">
      <textarea
        {...common}
        ref={box}
        rows={props.rows}
        spellCheck={false}
        value={text}
        placeholder={props.placeholder}
        aria-autocomplete="list"
        aria-controls={ac ? listId : undefined}
        aria-activedescendant={ac ? `${listId}-${ac.active}` : undefined}
        onChange={(e) => {
          set(e.target.value);
          suggest(e.target.value, e.target.selectionStart);
        }}
        onBlur={() => setAc(null)}
        onKeyDown={(e) => {
          if (e.key === ' ' && e.ctrlKey) {
            e.preventDefault();
            return suggest(text, e.currentTarget.selectionStart, true);
          }
          if (!ac) return;
          const n = ac.items.length;
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            setAc({ ...ac, active: (ac.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n });
          } else if (e.key === 'Enter' || e.key === 'Tab') {
            e.preventDefault();
            accept(ac.items[ac.active]!);
          } else if (e.key === 'Escape') {
            // Closes the list only; the canvas does not see this Escape.
            e.preventDefault();
            e.stopPropagation();
            setAc(null);
          }
        }}
      />
      {ac ? (
        <ul
          id={listId}
          role="listbox"
          aria-label="Expression completions"
          className="wf-completions"
        >
          {ac.items.map((c, i) => (
            <li
              key={c.label}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === ac.active}
              // Keep the focus in the field: a click picks without blurring it first.
              onMouseDown={(e) => {
                e.preventDefault();
                accept(c);
              }}
            >
              <code>{c.label}</code> <span className="wf-muted">{c.detail}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
