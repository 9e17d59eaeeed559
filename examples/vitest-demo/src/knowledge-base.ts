// The help-center articles of Kettle & Co., a (fictional) online shop for coffee and tea gear.

export type Intent = "order_status" | "returns_refunds" | "shipping" | "product_help" | "account_billing" | "warranty" | "other";

export interface Article {
  id: string;
  title: string;
  intent: Intent;
  text: string;
}

export const ARTICLES: Article[] = [
  {
    id: "kb-returns",
    title: "Returning an item",
    intent: "returns_refunds",
    text:
      "You can return unused items within 30 days of delivery for a full refund. " +
      "Opened grinders and espresso machines can be returned within 14 days if they are in their original packaging. " +
      "Start a return from Orders, then Return item, and we email you a prepaid return label.",
  },
  {
    id: "kb-refunds",
    title: "When will I get my refund?",
    intent: "returns_refunds",
    text:
      "Refunds go back to the original payment method within 5 to 7 business days after our warehouse receives the return. " +
      "If you choose store credit instead, it is added to your account instantly.",
  },
  {
    id: "kb-shipping",
    title: "Shipping times and costs",
    intent: "shipping",
    text:
      "Standard shipping takes 3 to 5 business days and is free on orders over $50. " +
      "Express shipping takes 1 to 2 business days and costs $12. " +
      "Orders placed before 2 pm ship the same day.",
  },
  {
    id: "kb-international",
    title: "International delivery",
    intent: "shipping",
    text:
      "We ship to Canada, the UK and the EU. " +
      "International delivery takes 7 to 14 business days, and duties are charged at checkout so there is nothing to pay on arrival.",
  },
  {
    id: "kb-tracking",
    title: "Tracking your order",
    intent: "order_status",
    text:
      "Once an order ships you get an email with a tracking link. " +
      "Orders show as processing until they leave the warehouse, which usually takes one business day.",
  },
  {
    id: "kb-warranty",
    title: "Warranty",
    intent: "warranty",
    text:
      "All kettles and grinders carry a 2-year warranty covering manufacturing defects. " +
      "Espresso machines carry a 3-year warranty. " +
      "To make a warranty claim, send us your order number and a photo of the problem.",
  },
  {
    id: "kb-descaling",
    title: "Descaling your kettle",
    intent: "product_help",
    text:
      "Descale your kettle every 4 weeks with one part white vinegar to two parts water, or with our citric descaler. " +
      "Rinse the kettle twice before you boil water for drinking again.",
  },
  {
    id: "kb-grind",
    title: "Grind settings for the Burr Grinder",
    intent: "product_help",
    text:
      "For pour-over use a medium-fine grind, setting 14 to 18 on the Burr Grinder. " +
      "For French press use a coarse grind, setting 26 to 30. " +
      "For espresso use a fine grind, setting 4 to 8.",
  },
  {
    id: "kb-password",
    title: "Resetting your password",
    intent: "account_billing",
    text:
      "To reset your password, click Forgot password on the sign-in page; the reset link is valid for 30 minutes. " +
      "Two-factor codes can be resent after 60 seconds.",
  },
  {
    id: "kb-subscriptions",
    title: "Bean subscriptions",
    intent: "account_billing",
    text:
      "Bean subscriptions ship every 2, 4 or 6 weeks. " +
      "You can pause, skip or cancel a subscription any time before the next billing date from Account, then Subscriptions.",
  },
  {
    id: "kb-payment",
    title: "Payment methods",
    intent: "account_billing",
    text:
      "We accept Visa, Mastercard, Amex, PayPal and Apple Pay. " +
      "Your card is charged when the order ships, and promo codes cannot be combined.",
  },
];

/** What the order-lookup tool can see. */
export interface Order {
  id: string;
  status: "processing" | "shipped" | "delivered" | "delayed";
  items: string[];
  carrier?: string;
  eta?: string;
  deliveredOn?: string;
  note?: string;
}

export const ORDERS: Record<string, Order> = {
  "KC-10423": { id: "KC-10423", status: "shipped", items: ["Gooseneck Kettle"], carrier: "UPS", eta: "June 6" },
  "KC-10519": { id: "KC-10519", status: "processing", items: ["Burr Grinder", "Paper filters"] },
  "KC-10588": { id: "KC-10588", status: "delivered", items: ["Espresso Machine"], deliveredOn: "May 28" },
  "KC-10602": {
    id: "KC-10602",
    status: "delayed",
    items: ["Bean subscription, 4 weeks"],
    carrier: "DHL",
    eta: "June 11",
    note: "held at the regional hub",
  },
};
