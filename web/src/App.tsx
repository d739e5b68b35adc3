/** Routes: browser history behind the gateway, hash history in a static export (any static host, any sub-path). */
import { createBrowserRouter, createHashRouter, RouterProvider } from "react-router";
import { isStaticMode } from "./api/staticMode";
import { Layout } from "./components/Layout";
import { BookmarksPage } from "./pages/BookmarksPage";
import { ComparePage } from "./pages/ComparePage";
import { ExplorerPage } from "./pages/ExplorerPage";
import { FeaturePage } from "./pages/FeaturePage";
import { FeatureRedirect } from "./pages/FeatureRedirect";
import { JobPage } from "./pages/JobPage";
import { JobsPage } from "./pages/JobsPage";
import { MapPage } from "./pages/MapPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { PromptPage } from "./pages/PromptPage";
import { RunPage } from "./pages/RunPage";
import { SearchPage } from "./pages/SearchPage";

export const routes = [
  {
    element: <Layout />,
    children: [
      { path: "/", element: <ExplorerPage /> },
      { path: "/runs/:runId/features/:index", element: <FeaturePage /> },
      { path: "/features/:id", element: <FeatureRedirect /> },
      { path: "/runs/:id", element: <RunPage /> },
      { path: "/runs/:runId/map", element: <MapPage /> },
      { path: "/prompt", element: <PromptPage /> },
      { path: "/search", element: <SearchPage /> },
      { path: "/jobs", element: <JobsPage /> },
      { path: "/jobs/:id", element: <JobPage /> },
      { path: "/compare", element: <ComparePage /> },
      { path: "/bookmarks", element: <BookmarksPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];

const router = isStaticMode() ? createHashRouter(routes) : createBrowserRouter(routes);

export function App() {
  return <RouterProvider router={router} />;
}
