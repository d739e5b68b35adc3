/** A job form's state: values, field and general messages, and a submit that checks locally before it sends. */
import { useState, type FormEvent } from "react";

/** What the server refused: messages per form field, and lines that name no field (shown above the form). */
export interface Problems<E> {
  fields: E;
  general: string[];
}

/**
 * `submit` runs `validate` first and sends nothing while a field fails; otherwise it sends `build(values)` and shows
 * the server's problems, if any. `setField` changes one value and clears that field's message.
 */
export function useCheckedForm<V extends object, E extends object, I>(
  initial: V,
  validate: (values: V) => E,
  build: (values: V) => I,
  onSubmit: (input: I) => Promise<Problems<E> | null>,
) {
  const [values, setValues] = useState<V>(initial);
  const [errors, setErrors] = useState<E>({} as E);
  const [general, setGeneral] = useState<string[]>([]);

  const setField = <K extends keyof V>(key: K, value: V[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local = validate(values);
    setErrors(local);
    setGeneral([]);
    if (Object.keys(local).length) return;
    const server = await onSubmit(build(values));
    if (server) {
      setErrors(server.fields);
      setGeneral(server.general);
    }
  }

  const reset = () => {
    setValues(initial);
    setErrors({} as E);
    setGeneral([]);
  };

  return { values, setValues, errors, setErrors, general, setField, submit, reset };
}
