//! Entry point: installs the Node polyfills, the wallet-adapter styles and mounts the app.
import "./polyfills";
import "@solana/wallet-adapter-react-ui/styles.css";
import "./styles.css";
import { createRoot } from "react-dom/client";
import { App } from "./App";

createRoot(document.getElementById("root")!).render(<App />);
