/** Entry: picks the live or static GraphQL client and mounts the app. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Provider } from "urql";
import { createLiveClient, createStaticClient } from "./api/client";
import { isStaticMode } from "./api/staticMode";
import { App } from "./App";
import "./styles/app.css";

const client = isStaticMode() ? createStaticClient() : createLiveClient();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Provider value={client}>
      <App />
    </Provider>
  </StrictMode>,
);
