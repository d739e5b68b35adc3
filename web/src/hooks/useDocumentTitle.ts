/** Sets the browser tab title while the page is shown (see lib/pageTitle for the format). */
import { useEffect } from "react";
import { APP_NAME } from "../lib/pageTitle";

export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = title;
  }, [title]);
  useEffect(() => () => void (document.title = APP_NAME), []);
}
