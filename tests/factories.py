import factory

from blacklist.models import Seller


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Seller {n}")
    contact_email = factory.LazyAttribute(lambda o: f"{o.name.lower().replace(' ', '.')}@sellers.example")
