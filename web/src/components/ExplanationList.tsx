/** A feature's explanations, each with its method, model, author and named scores; users add and edit their own. */
import { useState } from "react";
import { methodText, type ExplanationView } from "../lib/explanations";
import { ExplanationForm } from "./ExplanationForm";
import { ScoreChip } from "./ScoreChip";

interface Props {
  explanations: readonly ExplanationView[];
  /** Null where nothing can be written (a static export). */
  edits: {
    saving: boolean;
    add: (text: string, description: string | null) => Promise<string | null>;
    edit: (id: string, text: string, description: string | null) => Promise<string | null>;
  } | null;
}

export function ExplanationList({ explanations, edits }: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <div className="stack" style={{ gap: "0.6rem" }}>
      {explanations.length === 0 && <div className="muted small">No explanation yet.</div>}
      <ul className="plain explanations stack" data-testid="explanations">
        {explanations.map((e) => (
          <li key={e.id} className="stack" style={{ gap: "0.2rem", alignItems: "stretch" }} data-testid="explanation">
            {edits && editing === e.id ? (
              <ExplanationForm
                initialText={e.text}
                initialDescription={e.description}
                saving={edits.saving}
                submitText="Save explanation"
                onCancel={() => setEditing(null)}
                onSave={async (text, description) => {
                  const err = await edits.edit(e.id, text, description);
                  if (!err) setEditing(null);
                  return err;
                }}
              />
            ) : (
              <>
                <div className="row">
                  <q data-testid="explanation-text">{e.text}</q>
                  {edits && e.editable && (
                    <button type="button" className="small" onClick={() => setEditing(e.id)} aria-label={`Edit explanation “${e.text}”`}>
                      Edit
                    </button>
                  )}
                </div>
                {e.description && <div className="small muted">{e.description}</div>}
              </>
            )}
            <div className="row small">
              <span className="badge" data-testid="explanation-method">
                {methodText(e)}
              </span>
              <span className="muted small">by {e.author}</span>
              {e.scores.map((s) => (
                <ScoreChip key={s.name} score={s} />
              ))}
              {e.scores.length === 0 && <span className="muted small">not scored</span>}
            </div>
          </li>
        ))}
      </ul>
      {edits && editing === "new" && (
        <ExplanationForm
          saving={edits.saving}
          submitText="Add explanation"
          onCancel={() => setEditing(null)}
          onSave={async (text, description) => {
            const err = await edits.add(text, description);
            if (!err) setEditing(null);
            return err;
          }}
        />
      )}
      {edits && editing !== "new" && (
        <div>
          <button type="button" onClick={() => setEditing("new")}>
            Add an explanation
          </button>
        </div>
      )}
    </div>
  );
}
