//! The app shell: wallet adapter providers (Burner, Phantom, Solflare, plus any Wallet Standard wallet), header
//! with navigation / cluster picker / wallet, cluster health banner, notices, and the routed page.
import { useMemo } from "react";
import { ConnectionProvider, WalletProvider } from "@solana/wallet-adapter-react";
import { WalletModalProvider } from "@solana/wallet-adapter-react-ui";
import { PhantomWalletAdapter } from "@solana/wallet-adapter-phantom";
import { SolflareWalletAdapter } from "@solana/wallet-adapter-solflare";
import { BurnerWalletAdapter } from "./lib/burner";
import { resolveCluster } from "./lib/cluster";
import { VerityProvider } from "./context";
import { Header } from "./components/Header";
import { Banner } from "./components/Banner";
import { useRoute } from "./router";
import { SubmitPage } from "./pages/SubmitPage";
import { RequestPage } from "./pages/RequestPage";
import { RequestsPage } from "./pages/RequestsPage";
import { OperatorsPage } from "./pages/OperatorsPage";
import { ModelsPage } from "./pages/ModelsPage";
import { OperatorPage } from "./pages/OperatorPage";

function Page() {
  const [page, arg] = useRoute();
  switch (page) {
    case "request":
      return arg ? <RequestPage address={arg} /> : <RequestsPage />;
    case "requests":
      return <RequestsPage />;
    case "operators":
      return <OperatorsPage />;
    case "models":
      return <ModelsPage />;
    case "operator":
      return <OperatorPage />;
    default:
      return <SubmitPage />;
  }
}

export function App() {
  const cluster = useMemo(() => resolveCluster(), []);
  const wallets = useMemo(() => [new BurnerWalletAdapter(), new PhantomWalletAdapter(), new SolflareWalletAdapter()], []);
  return (
    <ConnectionProvider endpoint={cluster.rpc} config={{ commitment: "confirmed", wsEndpoint: cluster.ws }}>
      <WalletProvider wallets={wallets} autoConnect>
        <WalletModalProvider>
          <VerityProvider cluster={cluster}>
            <Header />
            <main>
              <Banner />
              <Page />
            </main>
          </VerityProvider>
        </WalletModalProvider>
      </WalletProvider>
    </ConnectionProvider>
  );
}
